/**
 * The one normalisation every extracted section gets: Unix newlines, no control characters or
 * invisible soft hyphens / zero-width spaces (PDFs are full of them), no trailing spaces, at most one
 * blank line in a row. Leading indentation is kept because code blocks need it.
 *
 * @example
 * cleanText("a  \r\n\r\n\r\n\tb\u0000"); // "a\n\n\tb"
 */
export function cleanText(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/[^\P{Cc}\t\n]|[\u00AD\u200B\uFEFF]/gu, "")
    .replace(/[ \t\u00A0]+$/gm, "")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Runs of whitespace become one space; for headings, titles and other one-line text. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
