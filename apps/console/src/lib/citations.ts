/** A chat answer cut into plain text and its citation markers `[n]` (also `[1, 2]`). */
export type AnswerPart = { kind: "text"; text: string } | { kind: "citation"; n: number };

const MARKER = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

/**
 * @example
 * splitCitations("Yes [1]. Also [2, 3]");
 * // text "Yes ", citation 1, text ". Also ", citation 2, citation 3
 */
export function splitCitations(answer: string): AnswerPart[] {
  const parts: AnswerPart[] = [];
  let last = 0;
  for (const match of answer.matchAll(MARKER)) {
    const index = match.index ?? 0;
    if (index > last) parts.push({ kind: "text", text: answer.slice(last, index) });
    for (const n of (match[1] ?? "").split(",")) parts.push({ kind: "citation", n: Number(n.trim()) });
    last = index + match[0].length;
  }
  if (last < answer.length) parts.push({ kind: "text", text: answer.slice(last) });
  return parts;
}
