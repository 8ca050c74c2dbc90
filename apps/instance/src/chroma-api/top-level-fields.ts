const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * The JSON text of some top-level fields of a JSON object, found without parsing the rest: a
 * Chroma write can be tens of megabytes of embeddings, and its `ids` are all the quota needs.
 * Values come back unparsed (`JSON.parse` them); a field the body does not have is absent.
 * Returns null when the body does not start as a JSON object.
 *
 * The scan stops once every name is found. A repeated field later on cannot change what is
 * written: Chroma refuses a body with a repeated field whole.
 *
 * @example
 * topLevelFields(Buffer.from('{"ids":["a"],"embeddings":[[1,2]]}'), ["ids"]); // Map { "ids" => '["a"]' }
 */
export function topLevelFields(body: Buffer, names: readonly string[]): Map<string, string> | null {
  let start = 0;
  while (start < body.length && isWhitespace(body[start]!)) start++;
  if (body[start] !== OPEN_OBJECT) return null;
  const found = new Map<string, string>();
  let depth = 0;
  let isExpectingKey = false;
  let key: string | null = null;
  let valueKey: string | null = null;
  let valueStart = 0;
  const finishValue = (end: number) => {
    if (valueKey !== null && names.includes(valueKey)) {
      found.set(valueKey, body.toString("utf8", valueStart, end).trim());
    }
    valueKey = null;
  };
  for (let i = start; i < body.length && found.size < names.length; i++) {
    const byte = body[i];
    if (byte === QUOTE) {
      const end = closingQuote(body, i + 1);
      if (end < 0) return found;
      if (depth === 1 && isExpectingKey) {
        key = JSON.parse(body.toString("utf8", i, end + 1)) as string;
        isExpectingKey = false;
      }
      i = end;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
      if (depth === 1) isExpectingKey = true;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (depth === 1) finishValue(i);
      depth--;
    } else if (depth === 1 && byte === COLON && key !== null) {
      valueKey = key;
      key = null;
      valueStart = i + 1;
    } else if (depth === 1 && byte === COMMA) {
      finishValue(i);
      isExpectingKey = true;
    }
  }
  return found;
}

/** The index of the quote closing a string whose contents start at `from`, or -1. */
function closingQuote(body: Buffer, from: number): number {
  for (let at = body.indexOf(QUOTE, from); at >= 0; at = body.indexOf(QUOTE, at + 1)) {
    let backslashes = 0;
    while (body[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}
