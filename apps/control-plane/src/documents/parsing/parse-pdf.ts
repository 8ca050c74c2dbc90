import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { PDFDocumentProxy } from "pdfjs-dist/legacy/build/pdf.mjs";
import type { TextItem } from "pdfjs-dist/types/src/display/api";
import { collapseWhitespace } from "./clean-text";
import { DocumentParseError, tooMuchText } from "./document-parse-error";
import type { DocumentSection, ParsedContent, ParseLimits } from "./parsed-document";

type Line = { text: string; x: number; y: number; size: number };

/**
 * Predefined CJK character maps ship inside pdfjs-dist; without them, Chinese and Japanese PDFs that
 * use them come out as nothing.
 */
const CMAP_DIRECTORY = `${join(dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json")), "cmaps")}/`;

/**
 * Text of each page of a PDF, one section per page that has any. Lines are rebuilt from pdf.js'
 * positioned text runs and re-flowed: a wider vertical gap, a jump up (next column) or a change of
 * font size starts a new paragraph, so chunking can break where the author did.
 *
 * pdf.js runs in this thread here (Node has no pdf.js worker), so its work is bounded by page
 * count, characters and CPU time, checked between pages.
 */
export async function parsePdf(bytes: Uint8Array, limits: ParseLimits): Promise<ParsedContent> {
  // Loaded on first use: pdf.js is megabytes of code most control-plane processes never need.
  const { getDocument, VerbosityLevel } = await import("pdfjs-dist/legacy/build/pdf.mjs");
  // CPU time, as the sandbox's deadline counts it: a page waiting for a core costs nothing.
  const cpuAtStart = process.cpuUsage();
  const cpuMillis = () => {
    const { user, system } = process.cpuUsage(cpuAtStart);
    return (user + system) / 1000;
  };
  const task = getDocument({
    // A plain copy: pdf.js detaches the array it is given (the caller's bytes stay intact) and
    // refuses Node's Buffer, whose slice() would only be a view.
    data: new Uint8Array(bytes),
    cMapUrl: CMAP_DIRECTORY,
    cMapPacked: true,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    useWorkerFetch: false,
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
    stopAtErrors: true,
    verbosity: VerbosityLevel.ERRORS,
  });
  try {
    const pdf = await task.promise.catch((error: unknown) => {
      throw openFailure(error);
    });
    if (pdf.numPages > limits.maxPages) {
      throw new DocumentParseError({
        kind: "too_complex",
        reason: `the PDF has ${pdf.numPages.toLocaleString("en-US")} pages; VDB reads at most ${limits.maxPages.toLocaleString("en-US")}`,
      });
    }
    const sections: DocumentSection[] = [];
    let characters = 0;
    for (let pageNumber = 1; pageNumber <= pdf.numPages; pageNumber++) {
      if (cpuMillis() > limits.maxMillis) {
        throw new DocumentParseError({
          kind: "too_complex",
          reason: `reading the PDF took longer than ${Math.round(limits.maxMillis / 1000)} s (stopped at page ${pageNumber}); split it into smaller files`,
        });
      }
      const text = await readPage(pdf, pageNumber);
      characters += text.length;
      if (characters > limits.maxCharacters) throw tooMuchText(limits.maxCharacters);
      if (text.trim()) sections.push({ text, page: pageNumber });
    }
    const metadata = await pdf.getMetadata().catch(() => undefined);
    const title = (metadata?.info as { Title?: unknown } | undefined)?.Title;
    return { title: typeof title === "string" ? collapseWhitespace(title) : undefined, sections };
  } finally {
    await task.destroy();
  }
}

async function readPage(pdf: PDFDocumentProxy, pageNumber: number): Promise<string> {
  try {
    const page = await pdf.getPage(pageNumber);
    const content = await page.getTextContent();
    page.cleanup();
    const items = content.items.filter((item): item is TextItem => "str" in item);
    return toParagraphs(toLines(items)).join("\n\n");
  } catch (error) {
    throw new DocumentParseError({
      kind: "damaged",
      reason: `the PDF is damaged and could not be read (page ${pageNumber})`,
      cause: error,
    });
  }
}

function toLines(items: TextItem[]): Line[] {
  const lines: Line[] = [];
  let current: Line | undefined;
  let lineEnded = false;
  let lastRight = 0;
  for (const item of items) {
    const x = item.transform[4] ?? 0;
    const y = item.transform[5] ?? 0;
    const size = Math.abs(item.height) || Math.hypot(item.transform[2] ?? 0, item.transform[3] ?? 0);
    if (item.str) {
      const movedVertically =
        current !== undefined && Math.abs(y - current.y) > 0.5 * Math.max(size, current.size);
      if (!current || lineEnded || movedVertically) {
        current = { text: item.str, x, y, size };
        lines.push(current);
      } else {
        // Runs that touch are one word; a visible gap without a space run is a word break (table cells, kerning).
        const gap = x - lastRight;
        if (gap > 0.2 * size && !/\s$/.test(current.text) && !/^\s/.test(item.str)) current.text += " ";
        current.text += item.str;
        current.size = Math.max(current.size, size);
      }
      lineEnded = false;
      lastRight = x + item.width;
    }
    if (item.hasEOL) lineEnded = true;
  }
  return lines.filter((line) => line.text.trim());
}

function toParagraphs(lines: Line[]): string[] {
  const paragraphs: string[] = [];
  let text = "";
  let previous: Line | undefined;
  for (const line of lines) {
    const lineText = collapseWhitespace(line.text);
    if (previous && !startsParagraph(previous, line)) {
      // A line-end hyphen before a lower-case letter is a word broken by layout, or a compound; either way no space.
      text += /\p{L}-$/u.test(text) && /^\p{Ll}/u.test(lineText) ? lineText : ` ${lineText}`;
    } else {
      if (text) paragraphs.push(text);
      text = lineText;
    }
    previous = line;
  }
  if (text) paragraphs.push(text);
  return paragraphs;
}

function startsParagraph(previous: Line, line: Line): boolean {
  const drop = previous.y - line.y;
  const size = Math.max(previous.size, line.size);
  if (drop < -0.5 * size) return true;
  if (drop > 1.5 * size) return true;
  return Math.max(previous.size, line.size) / Math.max(0.1, Math.min(previous.size, line.size)) > 1.25;
}

function openFailure(error: unknown): DocumentParseError {
  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === "PasswordException") {
    return new DocumentParseError({
      kind: "encrypted",
      reason: "the PDF is password-protected",
      cause: error,
    });
  }
  return new DocumentParseError({
    kind: "damaged",
    reason: "the PDF is damaged and could not be read",
    cause: error,
  });
}
