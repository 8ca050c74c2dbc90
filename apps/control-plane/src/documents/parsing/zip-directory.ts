import { inflateRawSync } from "node:zlib";

export type ZipEntry = {
  name: string;
  /** 0 = stored, 8 = deflate; DOCX writers use nothing else. */
  method: number;
  isEncrypted: boolean;
  compressedSize: number;
  /** As the central directory declares it; `inflateZipEntry` holds the entry to it. */
  uncompressedSize: number;
  localHeaderOffset: number;
};

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
/** ZIP64 marks sizes it moved elsewhere with all ones; no DOCX within an upload limit needs ZIP64. */
const ZIP64_MARKER = 0xffffffff;
const MAX_ENTRIES = 10_000;

/**
 * The entries a ZIP's central directory lists, read without unzipping anything, or `undefined`
 * when the bytes are not a ZIP this code can read (damaged, ZIP64, absurdly many entries). Reading
 * the directory first is what lets DOCX detection and the zip-bomb check run before any library
 * inflates a byte.
 *
 * @example
 * readZipDirectory(docxBytes)?.some((entry) => entry.name === "word/document.xml"); // true
 */
export function readZipDirectory(bytes: Uint8Array): ZipEntry[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEndOfDirectory(view);
  if (end === undefined) return undefined;
  const count = view.getUint16(end + 10, true);
  const directoryOffset = view.getUint32(end + 16, true);
  if (count > MAX_ENTRIES || directoryOffset === ZIP64_MARKER) return undefined;

  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > view.byteLength || view.getUint32(at, true) !== DIRECTORY_ENTRY) return undefined;
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    if (at + 46 + nameLength > view.byteLength) return undefined;
    const entry: ZipEntry = {
      name: decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      method: view.getUint16(at + 10, true),
      isEncrypted: (view.getUint16(at + 8, true) & 1) === 1,
      compressedSize: view.getUint32(at + 20, true),
      uncompressedSize: view.getUint32(at + 24, true),
      localHeaderOffset: view.getUint32(at + 42, true),
    };
    if (entry.compressedSize === ZIP64_MARKER || entry.uncompressedSize === ZIP64_MARKER) return undefined;
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * Inflates one entry but never past the size the directory declares for it: a bomb that lies
 * about its size fails here after `uncompressedSize` bytes, not after gigabytes. Returns the
 * inflated bytes; throws on any damage.
 */
export function inflateZipEntry(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = entry.localHeaderOffset;
  if (header + 30 > view.byteLength || view.getUint32(header, true) !== LOCAL_HEADER) {
    throw new Error(`zip entry ${entry.name} has no local header`);
  }
  const start = header + 30 + view.getUint16(header + 26, true) + view.getUint16(header + 28, true);
  const data = bytes.subarray(start, start + entry.compressedSize);
  if (data.byteLength !== entry.compressedSize) throw new Error(`zip entry ${entry.name} is truncated`);
  if (entry.method === 0) {
    if (data.byteLength !== entry.uncompressedSize) throw new Error(`zip entry ${entry.name} size mismatch`);
    return data;
  }
  if (entry.method !== 8) throw new Error(`zip entry ${entry.name} uses compression method ${entry.method}`);
  const inflated = inflateRawSync(data, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
  if (inflated.byteLength !== entry.uncompressedSize) {
    throw new Error(`zip entry ${entry.name} size mismatch`);
  }
  return inflated;
}

/** The end-of-central-directory record sits in the last 22 bytes plus up to a 64 KiB comment. */
function findEndOfDirectory(view: DataView): number | undefined {
  const lowest = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let at = view.byteLength - 22; at >= lowest; at--) {
    if (view.getUint32(at, true) === END_OF_DIRECTORY) return at;
  }
  return undefined;
}
