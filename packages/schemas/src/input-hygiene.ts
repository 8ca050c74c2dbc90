/**
 * Rules every piece of user input obeys, whatever the route or schema: no string (value or key)
 * holds a NUL character or a lone UTF-16 surrogate (PostgreSQL and Chroma refuse both, deep in
 * a write), and no JSON value is nested deeper than `MAX_JSON_DEPTH` (recursive walkers, zod's
 * among them, overflow the stack long before JSON.parse does). Checked once at each surface's
 * edge (REST, tRPC, the Chroma gateway, the instance) rather than in every string schema.
 */

/** Deepest nesting of objects and arrays accepted in any JSON body or input. */
export const MAX_JSON_DEPTH = 64;
/** Deepest nesting of `$and` / `$or` (objects and arrays) accepted in a `where` filter. */
export const MAX_WHERE_DEPTH = 32;

/** What is wrong with an input and where: `path` is dotted (`metadata.tags.0`), `(input)` for the whole. */
export interface InputFlaw {
  path: string;
  message: string;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string is refused, or null when it is fine.
 *
 * @example
 * stringFlaw("a\u0000b"); // "contains a NUL character (\\u0000)"
 * stringFlaw("ok"); // null
 */
export function stringFlaw(text: string): string | null {
  if (text.includes("\u0000")) return "contains a NUL character (\\u0000)";
  if (LONE_SURROGATE.test(text)) return "contains a lone UTF-16 surrogate (not valid Unicode)";
  return null;
}

interface Visit {
  value: unknown;
  depth: number;
  parent: Visit | null;
  key: string | null;
}

/** Long paths (a 60-level nesting) are cut to their first segments: enough to name the field. */
const SHOWN_SEGMENTS = 4;

function pathOf(visit: Visit, extra?: string): string {
  const segments: string[] = extra === undefined ? [] : [extra];
  for (let at: Visit | null = visit; at?.key != null; at = at.parent) segments.push(at.key);
  segments.reverse();
  if (segments.length === 0) return "(input)";
  const shown = segments.slice(0, SHOWN_SEGMENTS).join(".");
  return segments.length > SHOWN_SEGMENTS ? `${shown}…` : shown;
}

/**
 * The first flaw of a parsed JSON value (NUL, lone surrogate, nesting past `maxDepth`), or null.
 * Iterative, so any depth is safe to check.
 *
 * @example
 * inputFlaw({ name: "a\u0000" }); // { path: "name", message: "contains a NUL character (\\u0000)" }
 */
export function inputFlaw(value: unknown, maxDepth = MAX_JSON_DEPTH): InputFlaw | null {
  const stack: Visit[] = [{ value, depth: 0, parent: null, key: null }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const current = visit.value;
    if (typeof current === "string") {
      const flaw = stringFlaw(current);
      if (flaw) return { path: pathOf(visit), message: flaw };
      continue;
    }
    if (current === null || typeof current !== "object") continue;
    const depth = visit.depth + 1;
    if (depth > maxDepth) {
      return { path: pathOf(visit), message: `is nested more than ${maxDepth} levels deep` };
    }
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        stack.push({ value: current[i], depth, parent: visit, key: String(i) });
      }
      continue;
    }
    for (const [key, child] of Object.entries(current)) {
      const flaw = stringFlaw(key);
      if (flaw) return { path: pathOf(visit, key), message: `has a key that ${flaw}` };
      stack.push({ value: child, depth, parent: visit, key });
    }
  }
  return null;
}

/**
 * How deeply objects and arrays nest in `value`, counting no further than `stopAfter + 1`.
 *
 * @example
 * nestingDepth({ $and: [{ a: 1 }, { b: 2 }] }); // 3
 */
export function nestingDepth(value: unknown, stopAfter = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > stopAfter) return deepest;
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, here]);
  }
  return deepest;
}

interface ScanFrame {
  isObject: boolean;
  /** The key being read or last read (objects), or the index (arrays); null before the first. */
  segment: string | null;
  index: number;
  expectsKey: boolean;
  /** Set on the frame a `where`/`where_document` value opens: nesting is counted from here. */
  isWhere: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Keys longer than this are named by their start: enough to find the field. */
const NAMED_KEY_BYTES = 64;
const WHERE_KEYS = new Set(["where", "where_document", "whereDocument"]);

/**
 * The rules of `inputFlaw` checked on JSON *bytes* as they stream past, in constant memory and
 * one pass, without building the value: for bodies too large to parse whole (the Chroma
 * gateway's 40 MiB batches). Sees `\u0000` and lone `\uD800`-style escapes, raw NULs and
 * UTF-8-encoded surrogates, nesting past `maxDepth`, and a top-level `where` /
 * `where_document` nested past `maxWhereDepth`. Malformed JSON is not its business (the
 * parser behind it refuses that); it reports only what it recognises.
 *
 * @example
 * const scan = jsonByteScanner();
 * scan(new TextEncoder().encode('{"name":"a\\u0000"}')); // { path: "name", message: "contains a NUL…" }
 */
export function jsonByteScanner(
  opts: { maxDepth?: number; maxWhereDepth?: number } = {},
): (chunk: Uint8Array) => InputFlaw | null {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const maxWhereDepth = opts.maxWhereDepth ?? MAX_WHERE_DEPTH;
  const frames: ScanFrame[] = [];
  let whereStart = -1; // frames.length when the open `where` began
  let inString = false;
  let isKey = false;
  let keyBytes: number[] = [];
  let isEscaped = false;
  let hexLeft = 0;
  let hex = 0;
  /** After a high surrogate's escape the string must go on with `\u` and a low one: 1 wants the `\`, 2 the escape. */
  let pendingHigh: 0 | 1 | 2 = 0;
  let afterEd = false;
  let flaw: InputFlaw | null = null;

  const path = (): string => {
    const segments = frames.map((f) => f.segment).filter((s): s is string => s !== null);
    if (segments.length === 0) return "(input)";
    const shown = segments.slice(0, SHOWN_SEGMENTS).join(".");
    return segments.length > SHOWN_SEGMENTS ? `${shown}…` : shown;
  };
  const fail = (message: string): InputFlaw => {
    flaw = { path: path(), message: isKey ? `has a key that ${message}` : message };
    return flaw;
  };
  const lone = "contains a lone UTF-16 surrogate (not valid Unicode)";
  const nul = "contains a NUL character (\\u0000)";

  return (chunk) => {
    if (flaw) return flaw;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (inString) {
        if (isKey && !isEscaped && hexLeft === 0 && byte !== QUOTE && byte !== BACKSLASH) {
          if (keyBytes.length < NAMED_KEY_BYTES) keyBytes.push(byte);
        }
        if (hexLeft > 0) {
          const digit = Number.parseInt(String.fromCharCode(byte), 16);
          hex = hex * 16 + (Number.isNaN(digit) ? 0 : digit);
          if (--hexLeft > 0) continue;
          if (hex === 0) return fail(nul);
          const isHigh = hex >= 0xd800 && hex <= 0xdbff;
          const isLow = hex >= 0xdc00 && hex <= 0xdfff;
          if (pendingHigh === 2) {
            pendingHigh = 0;
            if (!isLow) return fail(lone);
          } else if (isLow) return fail(lone);
          if (isHigh) pendingHigh = 1;
          if (isKey && !isHigh && !isLow && keyBytes.length < NAMED_KEY_BYTES) {
            keyBytes.push(...new TextEncoder().encode(String.fromCharCode(hex)));
          }
          continue;
        }
        if (isEscaped) {
          isEscaped = false;
          if (byte === 0x75 /* u */) {
            hexLeft = 4;
            hex = 0;
          } else if (pendingHigh === 2) return fail(lone);
          continue;
        }
        if (pendingHigh === 1) {
          // After a high surrogate only `\u` may come; `\` moves on to wanting `u`.
          if (byte !== BACKSLASH) return fail(lone);
          pendingHigh = 2;
          isEscaped = true;
          continue;
        }
        if (byte === 0x00) return fail(nul);
        if (afterEd && byte >= 0xa0 && byte <= 0xbf) return fail(lone); // UTF-8 of U+D800–U+DFFF
        afterEd = byte === 0xed;
        if (byte === BACKSLASH) isEscaped = true;
        else if (byte === QUOTE) {
          inString = false;
          afterEd = false;
          if (isKey) {
            const frame = frames[frames.length - 1]!;
            frame.segment = new TextDecoder().decode(new Uint8Array(keyBytes));
            isKey = false;
          }
        }
        continue;
      }
      switch (byte) {
        case QUOTE: {
          inString = true;
          const frame = frames[frames.length - 1];
          if (frame?.isObject && frame.expectsKey) {
            isKey = true;
            keyBytes = [];
            frame.expectsKey = false;
          }
          break;
        }
        case 0x7b: // {
        case 0x5b: {
          // [
          const parent = frames[frames.length - 1];
          if (frames.length >= maxDepth) {
            return fail(`is nested more than ${maxDepth} levels deep`);
          }
          const isWhere =
            frames.length === 1 && parent?.isObject === true && WHERE_KEYS.has(parent.segment ?? "");
          if (isWhere) whereStart = frames.length;
          if (whereStart !== -1 && frames.length - whereStart >= maxWhereDepth) {
            // Named as the field, as the schemas name it: where in the filter hardly matters.
            flaw = { path: frames[0]!.segment!, message: `is nested more than ${maxWhereDepth} levels deep` };
            return flaw;
          }
          const isObject = byte === 0x7b;
          frames.push({ isObject, segment: isObject ? null : "0", index: 0, expectsKey: isObject, isWhere });
          break;
        }
        case 0x7d: // }
        case 0x5d: {
          // ]
          const closed = frames.pop();
          if (closed?.isWhere) whereStart = -1;
          break;
        }
        case 0x2c: {
          // ,
          const frame = frames[frames.length - 1];
          if (frame?.isObject) frame.expectsKey = true;
          else if (frame) frame.segment = String(++frame.index);
          break;
        }
        case 0x00:
          return fail(nul);
      }
    }
    return null;
  };
}
