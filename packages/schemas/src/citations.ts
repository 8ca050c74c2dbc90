/**
 * The one citation grammar of chat answers, for the server that writes them and the console and
 * widget that draw them: `[1]`, or a group `[2, 3]`, of one- or two-digit source numbers (there
 * are at most 20 sources, so a year like `[2024]` is left as text). No zod here: the widget's
 * bundle imports this file.
 */
export const CITATION_LIST = String.raw`\d{1,2}(?:\s*,\s*\d{1,2})*`;

/** The numbers of a marker's list: "2, 3" → [2, 3]. */
export function citationNumbers(list: string): number[] {
  return list.split(",").map((n) => Number(n.trim()));
}

/** A chat answer cut into plain text and its citation markers. */
export type AnswerPart = { kind: "text"; text: string } | { kind: "citation"; n: number };

/**
 * @example
 * splitCitations("Yes [1]. Also [2, 3]");
 * // text "Yes ", citation 1, text ". Also ", citation 2, citation 3
 */
export function splitCitations(answer: string): AnswerPart[] {
  const parts: AnswerPart[] = [];
  let last = 0;
  for (const match of answer.matchAll(new RegExp(String.raw`\[(${CITATION_LIST})\]`, "g"))) {
    const index = match.index ?? 0;
    if (index > last) parts.push({ kind: "text", text: answer.slice(last, index) });
    for (const n of citationNumbers(match[1] ?? "")) parts.push({ kind: "citation", n });
    last = index + match[0].length;
  }
  if (last < answer.length) parts.push({ kind: "text", text: answer.slice(last) });
  return parts;
}
