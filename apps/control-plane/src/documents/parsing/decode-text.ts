/** Bytes looked at to decide text-or-binary; the same window git uses. */
const SNIFF_BYTES = 8_000;

/**
 * The bytes as text, or `undefined` when they are binary. UTF-8 (with or without BOM) and UTF-16
 * with a BOM are decoded exactly; bytes that are not valid UTF-8 but hold almost no control
 * characters are legacy single-byte text (Windows-1252, what old Windows editors save).
 *
 * @example
 * decodeText(new TextEncoder().encode("héllo")); // "héllo"
 * decodeText(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0])); // undefined
 */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeStrict("utf-16le", bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeStrict("utf-16be", bytes);
  const sample = bytes.subarray(0, SNIFF_BYTES);
  if (sample.includes(0)) return undefined;
  if (controlBytes(sample) > Math.max(2, sample.length * 0.01)) return undefined;
  return decodeStrict("utf-8", bytes) ?? decodeWindows1252(bytes);
}

function decodeStrict(encoding: string, bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Node 20's TextDecoder("windows-1252") is really Latin-1 (0x80 comes out as U+0080, not "€"), so
 * the 32 bytes where the two differ are mapped here.
 */
const WINDOWS_1252_HIGH = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ";

function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString("latin1")
    .replace(/[\u0080-\u009F]/g, (char) => WINDOWS_1252_HIGH[char.charCodeAt(0) - 0x80]!);
}

/** C0 control bytes other than tab, newline, form feed and carriage return. */
function controlBytes(sample: Uint8Array): number {
  let controls = 0;
  for (const byte of sample) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) || byte === 0x7f) {
      controls++;
    }
  }
  return controls;
}
