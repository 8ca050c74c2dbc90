import { DocumentParseError } from "./document-parse-error";
import { parseHtml } from "./parse-html";
import type { ParsedContent, ParseLimits } from "./parsed-document";
import { inflateZipEntry, type ZipEntry } from "./zip-directory";

/** Word's own "Title" / "Subtitle" styles are headings to a reader; mammoth leaves them as paragraphs. */
const STYLE_MAP = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => h2:fresh"];

/**
 * Text of a Word document, one section per heading, via mammoth's HTML (which maps Word's heading
 * styles to h1–h6) and the HTML parser. Images are never read and linked files never fetched.
 *
 * Before mammoth (whose unzip library checks sizes only after inflating everything) sees the
 * bytes, every XML part is inflated here under its declared size and the declared sizes are
 * summed against `maxUnzippedBytes`: a zip bomb is refused, not expanded.
 */
export async function parseDocx(
  bytes: Uint8Array,
  entries: ZipEntry[],
  limits: ParseLimits,
): Promise<ParsedContent> {
  const parts = entries.filter((entry) => /\.(xml|rels)$/i.test(entry.name));
  if (parts.some((entry) => entry.isEncrypted)) {
    throw new DocumentParseError({ kind: "encrypted", reason: "the Word document is password-protected" });
  }
  const declared = parts.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  if (declared > limits.maxUnzippedBytes) {
    throw new DocumentParseError({
      kind: "too_complex",
      reason: `the Word document unpacks to ${Math.round(declared / 1024 / 1024)} MB of XML; VDB reads at most ${Math.round(limits.maxUnzippedBytes / 1024 / 1024)} MB`,
    });
  }
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
