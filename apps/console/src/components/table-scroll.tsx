import type { ReactNode } from "react";

/**
 * A table's horizontal scroll box on narrow screens. It takes focus so keyboard users can
 * scroll it with the arrow keys (WCAG 2.1.1), which is why a non-interactive element has a tabIndex.
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be keyboard-reachable
    <section className="table-wrap" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
