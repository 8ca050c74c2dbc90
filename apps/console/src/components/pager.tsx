import { useState } from "react";

/**
 * Cursor pagination state: the cursor of the page shown and the ones before it, so "Previous"
 * works with the API's forward-only cursors.
 */
export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; stack: (string | undefined)[] }>({
    key: resetKey,
    stack: [undefined],
  });
  const stack = state.key === resetKey ? state.stack : [undefined];
  return {
    cursor: stack[stack.length - 1],
    page: stack.length,
    next: (cursor: string) => setState({ key: resetKey, stack: [...stack, cursor] }),
    previous: () => setState({ key: resetKey, stack: stack.length > 1 ? stack.slice(0, -1) : stack }),
  };
}

export type CursorPages = ReturnType<typeof useCursorPages>;

/** Previous / next over `useCursorPages`; `nextCursor` is the current page's (null on the last). */
export function Pager({
  pages,
  nextCursor,
  label,
}: {
  pages: CursorPages;
  nextCursor: string | null | undefined;
  label: string;
}) {
  const { page, next: onNext, previous: onPrevious } = pages;
  if (page === 1 && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" className="secondary small-button" disabled={page <= 1} onClick={onPrevious}>
        Previous
      </button>
      <span className="muted">Page {page}</span>
      <button
        type="button"
        className="secondary small-button"
        disabled={!nextCursor}
        onClick={() => nextCursor && onNext(nextCursor)}
      >
        Next
      </button>
    </nav>
  );
}
