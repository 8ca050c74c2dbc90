import { CITATION_LIST, citationNumbers } from "@vdb/schemas/citations";

/** A marker (see `@vdb/schemas/citations`) with the spaces before it, dropped with it. */
const MARKER = new RegExp(String.raw`([^\S\n]*)\[(${CITATION_LIST})\]`, "g");
/** A marker that may still be arriving: held back until the next text shows whether it is one. */
const OPEN_MARKER = /[^\S\n]*\[[\d,\s]{0,12}$/;

/**
 * Rewrites citation markers in streamed text so the sources cited are numbered 1, 2, 3… in the
 * order they are first cited, and drops markers naming no source. Works token by token, so what
 * is streamed is already final: the concatenated output is the stored answer.
 *
 * @example
 * const markers = new CitationRenumberer(5);
 * markers.push("Leave is 30 days [") + markers.push("4]. Ask HR [2][9].") + markers.flush();
 * // "Leave is 30 days [1]. Ask HR [2]."; markers.cited → [4, 2]
 */
export class CitationRenumberer {
  readonly #sourceCount: number;
  #pending = "";
  readonly #numbers = new Map<number, number>();

  constructor(sourceCount: number) {
    this.#sourceCount = sourceCount;
  }

  /** The text that is final so far (possibly empty). */
  push(text: string): string {
    this.#pending += text;
    const open = OPEN_MARKER.exec(this.#pending);
    const cut = open ? open.index : this.#pending.length;
    const ready = this.#pending.slice(0, cut);
    this.#pending = this.#pending.slice(cut);
    return this.#rewrite(ready);
  }

  /** The rest, at the end of the stream. */
  flush(): string {
    const rest = this.#rewrite(this.#pending);
    this.#pending = "";
    return rest;
  }

  /** The original source numbers, in their new order: `cited[0]` is now `[1]`. */
  get cited(): number[] {
    return [...this.#numbers.keys()];
  }

  #rewrite(text: string): string {
    return text.replace(MARKER, (_marker, space: string, list: string) => {
      const numbers = new Set<number>();
      for (const source of citationNumbers(list)) {
        if (source < 1 || source > this.#sourceCount) continue;
        if (!this.#numbers.has(source)) this.#numbers.set(source, this.#numbers.size + 1);
        numbers.add(this.#numbers.get(source)!);
      }
      // A dropped marker takes the space before it along: "rule [7] changed" → "rule changed".
      return numbers.size === 0 ? "" : `${space}[${[...numbers].join(", ")}]`;
    });
  }
}

/** An earlier answer without its markers: they referred to that answer's own sources. */
export function withoutCitationMarkers(text: string): string {
  return text.replace(/\s?\[\d{1,2}(?:\s*,\s*\d{1,2})*\]/g, "");
}
