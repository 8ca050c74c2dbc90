import { describe, expect, it } from "vitest";
import { createHashProvider, hashEmbedding } from "./hash";

const cosine = (a: number[], b: number[]) =>
  a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);
const norm = (vector: number[]) => Math.sqrt(cosine(vector, vector));

describe("hash provider", () => {
  it("is named hash and keeps the requested dimension", () => {
    const provider = createHashProvider({ dimension: 384 });
    expect(provider.name).toBe("hash");
    expect(provider.dimension).toBe(384);
  });

  it("is deterministic across calls and provider instances", async () => {
    const texts = ["The cat sat on the mat", "Quarterly revenue grew 12%", "ünïcödé ΚΑΛΗΜΕΡΑ 東京"];
    const { vectors: first } = await createHashProvider({ dimension: 64 }).embed(texts);
    const { vectors: second } = await createHashProvider({ dimension: 64 }).embed(texts);
    expect(second).toEqual(first);
    // Pinned values: a change here silently invalidates every stored hash collection.
    expect(hashEmbedding("hello world", 8).map((value) => Number(value.toFixed(6)))).toEqual([
      0.274075, -0.205557, 0, -0.205557, 0.479632, 0, 0.205557, 0.753708,
    ]);
  });

  it("returns unit vectors of the right length, also for texts without words", async () => {
    const { vectors } = await createHashProvider({ dimension: 256 }).embed([
      "hello",
      "",
      "   ",
      "!!!",
      "a b c d e f",
    ]);
    expect(vectors).toHaveLength(5);
    for (const vector of vectors) {
      expect(vector).toHaveLength(256);
      expect(norm(vector)).toBeCloseTo(1, 10);
    }
  });

  it("scores similar texts higher than unrelated ones", () => {
    const embed = (text: string) => hashEmbedding(text, 512);
    const cat = embed("The cat sat on the mat");
    const cats = embed("the cats sat on a mat");
    const revenue = embed("Quarterly revenue grew 12%");
    expect(cosine(cat, cats)).toBeGreaterThan(0.5);
    expect(cosine(cat, cats)).toBeGreaterThan(cosine(cat, revenue) + 0.3);
    // Case and Unicode normalisation do not change the vector.
    expect(embed("THE CAT sat on the ｍａｔ")).toEqual(cat);
  });

  it("keeps the order of texts", async () => {
    const texts = Array.from({ length: 50 }, (_, index) => `document number ${index}`);
    const { vectors } = await createHashProvider({ dimension: 32 }).embed(texts);
    vectors.forEach((vector, index) => {
      expect(vector).toEqual(hashEmbedding(texts[index]!, 32));
    });
  });

  it("rejects a dimension that is not a whole number from 1 to 65536", () => {
    for (const dimension of [0, -3, 1.5, Number.NaN, 65_537]) {
      expect(() => createHashProvider({ dimension })).toThrow(
        /hash: dimension must be a whole number from 1 to 65536/,
      );
    }
    expect(hashEmbedding("x", 65_536)).toHaveLength(65_536);
  });
});
