import { cleanText, collapseWhitespace } from "./clean-text";
import { type DetectedDocument, type DocumentType, detectDocumentType } from "./detect-document-type";
import { DocumentParseError, tooMuchText } from "./document-parse-error";
import { parseDocx } from "./parse-docx";
import { parseHtml } from "./parse-html";
import { parseJson } from "./parse-json";
import { parseMarkdown } from "./parse-markdown";
import { parsePdf } from "./parse-pdf";
import {
  DEFAULT_PARSE_LIMITS,
  type DocumentSection,
  type ParsedContent,
  type ParsedDocument,
  type ParseLimits,
} from "./parsed-document";

export type ParseDocumentInput = {
  bytes: Uint8Array;
  /** As uploaded; its extension is the type the file claims to be. */
  filename: string;
  /** Consulted only when `filename` has no extension. */
  contentType?: string | undefined;
  /** The plan's upload limit. */
  maxBytes: number;
  /** Tighter or looser work caps than `DEFAULT_PARSE_LIMITS` (tests, large-plan tenants). */
  limits?: Partial<ParseLimits>;
};

const DAMAGED: Record<DocumentType, string> = {
  pdf: "the PDF is damaged and could not be read",
  docx: "the Word document is damaged and could not be read",
  html: "the HTML could not be read",
  markdown: "the Markdown could not be read",
  json: "the JSON could not be read",
  text: "the text could not be read",
};

/**
 * Turns an uploaded file into a title and sections of clean text: PDF (one section per page,
 * `page` set), DOCX, HTML and Markdown (one section per heading, `heading` set), JSON (see
 * `parseJson` for the rule) and plain text (one section). The type comes from the bytes and must
 * agree with the file's name; see `detectDocumentType`.
 *
 * Throws only `DocumentParseError`, whose `reason` can be shown to the uploader as is. Work is
 * capped by `maxBytes` and `limits`, so hostile files fail fast instead of holding the worker.
 *
 * @example
 * const { title, sections } = await parseDocument({ bytes, filename: "guide.pdf", maxBytes: 10 * 1024 * 1024 });
 * // sections: [{ text: "…", page: 1 }, { text: "…", page: 2 }]
 */
export async function parseDocument(input: ParseDocumentInput): Promise<ParsedDocument> {
  const limits: ParseLimits = { ...DEFAULT_PARSE_LIMITS, ...input.limits };
  const { bytes } = input;
  if (bytes.byteLength === 0) throw new DocumentParseError({ kind: "empty", reason: "the file is empty" });
  if (bytes.byteLength > input.maxBytes) {
    const [size, allowed] = formatSizes(bytes.byteLength, input.maxBytes);
    throw new DocumentParseError({
      kind: "too_large",
      reason: `the file is ${size}; the plan allows ${allowed}`,
    });
  }
  const detected = detectDocumentType(input);

  let content: ParsedContent;
  try {
    content = await parseDetected(detected, bytes, limits);
  } catch (error) {
    if (error instanceof DocumentParseError) throw error;
    throw new DocumentParseError({ kind: "damaged", reason: DAMAGED[detected.type], cause: error });
  }

  const sections: DocumentSection[] = [];
  let characters = 0;
  for (const section of content.sections) {
    const text = cleanText(section.text);
    if (!text) continue;
    characters += text.length;
    if (characters > limits.maxCharacters) throw tooMuchText(limits.maxCharacters);
    sections.push({
      text,
      ...(section.page !== undefined ? { page: section.page } : {}),
      ...(section.heading ? { heading: section.heading } : {}),
    });
  }
  if (sections.length === 0) {
    throw new DocumentParseError({
      kind: "no_text",
      reason:
        detected.type === "pdf"
          ? "no text found (a scanned PDF needs OCR, which VDB does not do)"
          : "no text found",
    });
  }
  return { title: content.title || titleFromFilename(input.filename), sections };
}

function parseDetected(detected: DetectedDocument, bytes: Uint8Array, limits: ParseLimits) {
  switch (detected.type) {
    case "pdf":
      return parsePdf(bytes, limits);
    case "docx":
      return parseDocx(bytes, detected.entries, limits);
    case "html":
      return parseHtml(detected.text);
    case "markdown":
      return parseMarkdown(detected.text);
    case "json":
      return parseJson(detected.text, limits.maxCharacters);
    case "text":
      return { sections: [{ text: detected.text }] };
  }
}

function titleFromFilename(filename: string): string {
  const basename = filename.split(/[\\/]/).pop() ?? "";
  const dot = basename.lastIndexOf(".");
  return collapseWhitespace(dot > 0 ? basename.slice(0, dot) : basename) || "Untitled";
}

/** "12.3 MB" and "10 MB"; more digits only when rounding would make the two look equal. */
function formatSizes(size: number, allowed: number): [string, string] {
  for (const digits of [1, 2, 3]) {
    const pair: [string, string] = [formatBytes(size, digits), formatBytes(allowed, digits)];
    if (pair[0] !== pair[1]) return pair;
  }
  return [`${size.toLocaleString("en-US")} bytes`, `${allowed.toLocaleString("en-US")} bytes`];
}

function formatBytes(bytes: number, digits: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, "KB"] : [bytes / 1024 / 1024, "MB"];
  return `${Number(value.toFixed(digits))} ${unit}`;
}
