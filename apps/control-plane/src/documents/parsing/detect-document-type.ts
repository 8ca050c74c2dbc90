import { decodeText } from "./decode-text";
import { DocumentParseError } from "./document-parse-error";
import { readZipDirectory, type ZipEntry } from "./zip-directory";

export type DocumentType = "pdf" | "docx" | "html" | "markdown" | "text" | "json";

export type DetectedDocument =
  | { type: "pdf" }
  | { type: "docx"; entries: ZipEntry[] }
  | { type: "html" | "markdown" | "text" | "json"; text: string };

const TYPE_BY_EXTENSION: Record<string, DocumentType> = {
  pdf: "pdf",
  docx: "docx",
  html: "html",
  htm: "html",
  xhtml: "html",
  md: "markdown",
  markdown: "markdown",
  txt: "text",
  text: "text",
  log: "text",
  csv: "text",
  tsv: "text",
  json: "json",
};

const TYPE_BY_CONTENT_TYPE: Record<string, DocumentType> = {
  "application/pdf": "pdf",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "text/html": "html",
  "application/xhtml+xml": "html",
  "text/markdown": "markdown",
  "text/x-markdown": "markdown",
  "text/plain": "text",
  "text/csv": "text",
  "application/json": "json",
  "text/json": "json",
};

/** Content types that say nothing about the file; browsers and curl send them for anything. */
const GENERIC_CONTENT_TYPES = new Set(["", "application/octet-stream", "binary/octet-stream"]);

/** What the bytes really are, before any claim is consulted. */
type Sniffed =
  | { kind: "pdf" }
  | { kind: "docx"; entries: ZipEntry[] }
  | { kind: "zip" }
  | { kind: "ole" }
  | { kind: "binary" }
  | { kind: "text"; text: string };

/**
 * Decides how to read a file from its bytes, and refuses it when the bytes contradict its name.
 * The extension is the claim; the content type is consulted only when there is no extension,
 * because clients label files loosely (`.md` as `text/plain`, anything as octet-stream).
 * A claimed PDF or DOCX must be one by its magic bytes; a claimed text format must decode as text.
 * Without any claim, PDF and DOCX are recognised by their bytes and text is sniffed for HTML,
 * JSON and Markdown.
 *
 * @example
 * detectDocumentType({ bytes: new TextEncoder().encode("hi"), filename: "a.pdf" });
 * // throws DocumentParseError "the file says .pdf but is not a PDF"
 */
export function detectDocumentType(input: {
  bytes: Uint8Array;
  filename: string;
  contentType?: string | undefined;
}): DetectedDocument {
  const claim = readClaim(input.filename, input.contentType);
  if (claim && !claim.type) {
    throw new DocumentParseError({ kind: "unsupported", reason: `unsupported file type (${claim.label})` });
  }
  const sniffed = sniff(input.bytes);
  const says = claim ? `the file says ${claim.label} but` : "";

  switch (claim?.type) {
    case "pdf":
      if (sniffed.kind === "pdf") return { type: "pdf" };
      throw mismatch(`${says} is not a PDF`);
    case "docx":
      if (sniffed.kind === "docx") return { type: "docx", entries: sniffed.entries };
      if (sniffed.kind === "ole") {
        throw mismatch(`${says} is an old-format (.doc) or password-protected Word file; save it as a .docx`);
      }
      throw mismatch(`${says} is not a Word document`);
    case "html":
    case "markdown":
    case "text":
    case "json":
      if (sniffed.kind === "text") return { type: claim.type, text: sniffed.text };
      if (sniffed.kind === "pdf") throw mismatch(`${says} is a PDF`);
      if (sniffed.kind === "docx") throw mismatch(`${says} is a Word document`);
      throw mismatch(`${says} is not text`);
    case undefined:
      return detectUnclaimed(sniffed);
  }
}

function detectUnclaimed(sniffed: Sniffed): DetectedDocument {
  switch (sniffed.kind) {
    case "pdf":
      return { type: "pdf" };
    case "docx":
      return { type: "docx", entries: sniffed.entries };
    case "text":
      return { type: sniffTextType(sniffed.text), text: sniffed.text };
    case "zip":
      throw unsupported("a ZIP archive that is not a Word document");
    case "ole":
      throw unsupported("an old-format Office file; save it as .docx or .pdf");
    case "binary":
      throw unsupported("binary data, not a PDF, Word document or text");
  }
}

function readClaim(
  filename: string,
  contentType: string | undefined,
): { type: DocumentType | undefined; label: string } | undefined {
  const basename = filename.split(/[\\/]/).pop() ?? "";
  const dot = basename.lastIndexOf(".");
  if (dot > 0 && dot < basename.length - 1) {
    const extension = basename.slice(dot + 1).toLowerCase();
    return { type: TYPE_BY_EXTENSION[extension], label: `.${extension}` };
  }
  const mime = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (GENERIC_CONTENT_TYPES.has(mime)) return undefined;
  const type = TYPE_BY_CONTENT_TYPE[mime] ?? (mime.endsWith("+json") ? "json" : undefined);
  return { type, label: mime };
}

function sniff(bytes: Uint8Array): Sniffed {
  // The PDF spec tolerates junk before the header, and so does pdf.js; 1 KiB is what readers scan.
  if (indexOfAscii(bytes.subarray(0, 1024), "%PDF-") !== -1) return { kind: "pdf" };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    const entries = readZipDirectory(bytes);
    if (entries?.some((entry) => entry.name === "word/document.xml")) return { kind: "docx", entries };
    return { kind: "zip" };
  }
  if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return { kind: "ole" };
  const text = decodeText(bytes);
  return text === undefined ? { kind: "binary" } : { kind: "text", text };
}

/** Only for files with no extension or content type to go by. */
function sniffTextType(text: string): "html" | "markdown" | "text" | "json" {
  const head = text.slice(0, 2_000).trimStart();
  if (/^<(!doctype\s+html|html|head|body)\b/i.test(head)) return "html";
  if (/^[[{]/.test(head) && isJson(text)) return "json";
  if (/^(#{1,6}\s+\S|```|~~~)/m.test(head)) return "markdown";
  return "text";
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

function indexOfAscii(bytes: Uint8Array, needle: string): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(needle, 0, "latin1");
}

function mismatch(reason: string): DocumentParseError {
  return new DocumentParseError({ kind: "type_mismatch", reason });
}

function unsupported(what: string): DocumentParseError {
  return new DocumentParseError({ kind: "unsupported", reason: `unsupported file type (${what})` });
}
