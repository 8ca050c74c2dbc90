import { describe, expect, it } from "vitest";
import { inputFlaw, jsonByteScanner, MAX_JSON_DEPTH, MAX_WHERE_DEPTH } from "./input-hygiene";

/** Scans `text` fed in chunks of `size` bytes, so every state crosses a chunk boundary somewhere. */
function scan(text: string, size: number) {
  const bytes = new TextEncoder().encode(text);
  const next = jsonByteScanner();
  for (let at = 0; at < bytes.length; at += size) {
    const flaw = next(bytes.subarray(at, at + size));
    if (flaw) return flaw;
  }
  return null;
}

function deepWhere(levels: number): unknown {
  let where: unknown = { topic: "x" };
  for (let i = 0; i < levels; i++) where = { $and: [where, { n: { $gt: i } }] };
  return where;
}

const cases: Array<[string, string, string | null]> = [
  ["clean", '{"ids":["a","b"],"documents":["x \\" \\\\ \\u00e9 \\ud83d\\ude00 é 😀"]}', null],
  ["a NUL escape", '{"documents":["x","a\\u0000"]}', "documents.1"],
  ["a lone high surrogate", '{"metadatas":[{"k":"\\ud800"}]}', "metadatas.0.k"],
  ["a high surrogate then a letter", '{"k":"\\ud800x"}', "k"],
  ["a high surrogate then another escape", '{"k":"\\ud800\\n"}', "k"],
  ["two high surrogates", '{"k":"\\ud800\\ud800"}', "k"],
  ["a lone low surrogate", '{"k":"a\\udc00"}', "k"],
  ["a NUL in a key", '{"m":{"a\\u0000":1}}', "m"],
  ["nesting past the cap", `{"a":${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}}`, "a.0.0.0…"],
  ["nesting at the cap", `${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`, null],
  ["a where past its cap", JSON.stringify({ where: deepWhere(MAX_WHERE_DEPTH / 2) }), "where"],
  ["a where within its cap", JSON.stringify({ where: deepWhere(MAX_WHERE_DEPTH / 2 - 1) }), null],
  ["a where-named field deeper down is not a where", JSON.stringify({ m: { where: deepWhere(20) } }), null],
];

describe("jsonByteScanner: inputFlaw's rules on streamed bytes", () => {
  it.each(cases)("%s", (_, text, path) => {
    for (const size of [1, 3, 7, 1 << 20]) {
      const flaw = scan(text, size);
      if (path === null) expect(flaw).toBeNull();
      else expect(flaw?.path).toBe(path);
    }
    // Agrees with the tree walker (which has no where rule: that is the schemas').
    if (!text.includes("where")) expect(inputFlaw(JSON.parse(text)) === null).toBe(path === null);
  });

  it("a raw UTF-8-encoded surrogate and a raw NUL", () => {
    const encoded = new Uint8Array([...new TextEncoder().encode('{"k":"a'), 0xed, 0xa0, 0x80, 0x22, 0x7d]);
    expect(jsonByteScanner()(encoded)?.message).toContain("lone UTF-16 surrogate");
    const nul = new Uint8Array([...new TextEncoder().encode('{"k":"a'), 0x00, 0x22, 0x7d]);
    expect(jsonByteScanner()(nul)?.message).toContain("NUL");
  });

  it("10,000 levels deep stops at the cap without a stack", () => {
    expect(scan(`${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`, 4096)?.message).toContain(
      `more than ${MAX_JSON_DEPTH} levels`,
    );
  });
});
