import { deflateRawSync } from "node:zlib";
import { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow, TextRun } from "docx";
import { PDFDocument, rgb, StandardFonts } from "pdf-lib";

/**
 * Real PDF and DOCX files built in-process for the parsing tests, so no binaries are committed
 * and every fixture's content is visible beside its assertions. Test-only: pdf-lib and docx are
 * devDependencies.
 */

/** A PDF with one page per entry of `pages`, each entry's lines drawn top-down; `""` draws only a rectangle. */
export async function makePdf(pages: string[][], options: { title?: string } = {}): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  if (options.title) pdf.setTitle(options.title);
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = pdf.addPage([612, 792]);
    if (lines.length === 0) {
      page.drawRectangle({ x: 72, y: 500, width: 200, height: 120, color: rgb(0.2, 0.4, 0.8) });
    }
    let y = 720;
    for (const line of lines) {
      page.drawText(line, { x: 72, y, size: 12, font });
      y -= line === "" ? 10 : 28;
    }
  }
  return pdf.save();
}

/**
 * A DOCX: `# Heading` / `## Heading` entries become Word heading styles, `- item` bullets, and
 * consecutive `a | b` entries one table, a row each; the rest are body paragraphs.
 */
export async function makeDocx(paragraphs: string[], options: { title?: string } = {}): Promise<Uint8Array> {
  const children: (Paragraph | Table)[] = [];
  if (options.title) children.push(new Paragraph({ text: options.title, heading: HeadingLevel.TITLE }));
  let rows: TableRow[] = [];
  const endTable = () => {
    if (rows.length > 0) children.push(new Table({ rows }));
    rows = [];
  };
  for (const text of paragraphs) {
    if (text.includes(" | ")) {
      const cells = text.split(" | ").map((cell) => new TableCell({ children: [new Paragraph(cell)] }));
      rows.push(new TableRow({ children: cells }));
      continue;
    }
    endTable();
    const heading = /^(#{1,3}) (.*)$/.exec(text);
    if (heading) {
      const levels = [HeadingLevel.HEADING_1, HeadingLevel.HEADING_2, HeadingLevel.HEADING_3];
      children.push(new Paragraph({ text: heading[2]!, heading: levels[heading[1]!.length - 1]! }));
    } else if (text.startsWith("- ")) {
      children.push(new Paragraph({ text: text.slice(2), bullet: { level: 0 } }));
    } else {
      children.push(new Paragraph({ children: [new TextRun(text)] }));
    }
  }
  endTable();
  const document = new Document({ sections: [{ children }] });
  return new Uint8Array(await Packer.toBuffer(document));
}

export type ZipFixtureEntry = {
  name: string;
  content: string | Uint8Array;
  /** Deflate instead of storing. */
  deflate?: boolean;
  /** Lie about the inflated size, as a zip bomb does. */
  declaredSize?: number;
  /**
   * `content` is already raw-deflated (a bomb too big to build in memory, streamed through zlib);
   * give its inflated size as `declaredSize`. Its CRC is not the inflated data's.
   */
  isDeflated?: boolean;
};

/** A ZIP of the given entries; enough to fake an .xlsx, a bare archive or a zip bomb. */
export function makeZip(entries: ZipFixtureEntry[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const nameBytes = new TextEncoder().encode(entry.name);
    const raw = typeof entry.content === "string" ? new TextEncoder().encode(entry.content) : entry.content;
    const data = entry.deflate && !entry.isDeflated ? new Uint8Array(deflateRawSync(raw)) : raw;
    const method = entry.deflate || entry.isDeflated ? 8 : 0;
    const crc = crc32(raw);
    const size = entry.declaredSize ?? raw.length;
    const local = new Uint8Array(30 + nameBytes.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    local.set(data, 30 + nameBytes.length);
    const central = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    central.set(nameBytes, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const directorySize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, centrals.length, true);
  ev.setUint16(10, centrals.length, true);
  ev.setUint32(12, directorySize, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, ...centrals, end]);
}

const WORD_MAIN = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const RELATIONSHIP_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/**
 * A Word document whose package points its main part at `mainPart` (any name: `.bin` is how a
 * bomb hides from name-based checks) holding `paragraphs`, deflated. A decoy `word/document.xml`
 * makes it look like any DOCX. `media` adds parts the main part links as images; `declaredSize`
 * makes the main part claim that inflated size, as a bomb's would.
 */
export function makeRelinkedDocx(
  mainPart: string,
  paragraphs: string[],
  media: { name: string; content: Uint8Array }[] = [],
  options: { declaredSize?: number } = {},
): Uint8Array {
  const body = paragraphs.map((text) => `<w:p><w:r><w:t>${text}</w:t></w:r></w:p>`).join("");
  const relationships = (items: string[]) =>
    `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${items.join("")}</Relationships>`;
  const directory = mainPart.slice(0, mainPart.lastIndexOf("/") + 1);
  const file = mainPart.slice(directory.length);
  return makeZip([
    {
      name: "[Content_Types].xml",
      content:
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>',
    },
    {
      name: "_rels/.rels",
      content: relationships([
        `<Relationship Id="rId1" Type="${RELATIONSHIP_TYPES}/officeDocument" Target="${mainPart}"/>`,
      ]),
    },
    { name: "word/document.xml", content: `<w:document xmlns:w="${WORD_MAIN}"><w:body/></w:document>` },
    {
      name: mainPart,
      content: `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="${WORD_MAIN}"><w:body>${body}</w:body></w:document>`,
      deflate: true,
      ...(options.declaredSize ? { declaredSize: options.declaredSize } : {}),
    },
    {
      name: `${directory}_rels/${file}.rels`,
      content: relationships(
        media.map(
          (part, i) =>
            `<Relationship Id="rIdImage${i}" Type="${RELATIONSHIP_TYPES}/image" Target="${part.name.slice(directory.length)}"/>`,
        ),
      ),
    },
    ...media.map((part) => ({ name: part.name, content: part.content, deflate: true })),
  ]);
}

/** Deterministic bytes that look like nothing: every value 0..255, NULs included. */
export function makeRandomBytes(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}
