import path from "node:path";
import { DocumentParseError } from "./document-parse-error";
import { parseHtml } from "./parse-html";
import type { ParsedContent, ParseLimits } from "./parsed-document";
import { inflateZipEntry, type ZipEntry } from "./zip-directory";

/** Word's own "Title" / "Subtitle" styles are headings to a reader; mammoth leaves them as paragraphs. */
const STYLE_MAP = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => h2:fresh"];

/**
 * Relationship types whose targets no parser here opens: mammoth reads an image only through
 * `convertImage`, which never reads it, and ignores embedded objects, fonts and media.
 */
const UNREAD_RELATIONSHIP = /\/(image|oleObject|package|font|thumbnail|video|audio|media)$/i;
/** Relationships parts, by the packaging convention's name, which is how mammoth finds them too. */
const RELATIONSHIPS_PART = /(^|\/)_rels\/[^/]*\.rels$/i;

/**
 * Text of a Word document, one section per heading, via mammoth's HTML (which maps Word's heading
 * styles to h1–h6) and the HTML parser. Images are never read and linked files never fetched.
 *
 * Before mammoth (whose unzip library checks sizes only after inflating everything) sees the
 * bytes, every part it may open is inflated here under its declared size, and the declared sizes
 * are summed against `maxUnzippedBytes`: a zip bomb is refused, not expanded. Which parts those
 * are is decided by the relationships, not by names: any entry counts unless every relationship
 * pointing at it is of a type nothing here opens (images, embedded objects), so a main document
 * pointed at `word/document.bin` counts as much as `word/document.xml`.
 */
export async function parseDocx(
  bytes: Uint8Array,
  entries: ZipEntry[],
  limits: ParseLimits,
): Promise<ParsedContent> {
  const relationships = entries.filter((entry) => RELATIONSHIPS_PART.test(entry.name));
  checkUnzippedSize(relationships, limits);
  const unread = unreadParts(bytes, relationships);
  const parts = entries.filter((entry) => !unread.has(entry.name.toLowerCase()));
  checkUnzippedSize(parts, limits);
  for (const entry of parts) inflateZipEntry(bytes, entry);

  const { default: mammoth } = await import("mammoth");
  const { value: html } = await mammoth.convertToHtml(
    { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
    {
      styleMap: STYLE_MAP,
      externalFileAccess: false,
      convertImage: mammoth.images.imgElement(async () => ({ src: "" })),
    },
  );
  return parseHtml(html);
}

function checkUnzippedSize(parts: ZipEntry[], limits: ParseLimits): void {
  if (parts.some((entry) => entry.isEncrypted)) {
    throw new DocumentParseError({ kind: "encrypted", reason: "the Word document is password-protected" });
  }
  const declared = parts.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  if (declared > limits.maxUnzippedBytes) {
    throw new DocumentParseError({
      kind: "too_complex",
      reason: `the Word document unpacks to ${Math.round(declared / 1024 / 1024)} MB; VDB reads at most ${Math.round(limits.maxUnzippedBytes / 1024 / 1024)} MB`,
    });
  }
}

/** Entry names (lower-cased) that only relationships of `UNREAD_RELATIONSHIP` types point at. */
function unreadParts(bytes: Uint8Array, relationships: ZipEntry[]): Set<string> {
  const isUnreadOnly = new Map<string, boolean>();
  const decoder = new TextDecoder();
  for (const entry of relationships) {
    const xml = decoder.decode(inflateZipEntry(bytes, entry));
    // "word/_rels/document.xml.rels" speaks for "word/document.xml": targets are relative to "word/".
    const base = entry.name.replace(RELATIONSHIPS_PART, "$1");
    for (const [tag] of xml.matchAll(/<(?:\w+:)?Relationship\b[^>]*>/g)) {
      const attributes = new Map(
        Array.from(tag.matchAll(/(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g), (m) => [m[1]!, m[2] ?? m[3] ?? ""]),
      );
      if (attributes.get("TargetMode") === "External") continue;
      const target = attributes.get("Target");
      if (!target) continue;
      const name = path.posix
        .normalize(target.startsWith("/") ? target : `${base}${target}`)
        .replace(/^\/+/, "")
        .toLowerCase();
      const unread = UNREAD_RELATIONSHIP.test(attributes.get("Type") ?? "");
      isUnreadOnly.set(name, (isUnreadOnly.get(name) ?? true) && unread);
    }
  }
  return new Set([...isUnreadOnly].filter(([, unread]) => unread).map(([name]) => name));
}
