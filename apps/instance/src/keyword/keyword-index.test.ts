import { describe, expect, it } from "vitest";
import { KeywordIndex } from "./keyword-index";

const built = (records: [string, string][]) => {
  const index = KeywordIndex.empty();
  index.upsert(records.map(([id, text]) => ({ id, text })));
  return index;
};

/** BM25 of one query term, written out: k1 1.2, b 0.75, Lucene's idf. */
function bm25(tf: number, df: number, documents: number, length: number, averageLength: number): number {
  const idf = Math.log(1 + (documents - df + 0.5) / (df + 0.5));
  return (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * length) / averageLength));
}

/** Every match of every query, scores rounded past float noise: what two indexes must agree on. */
function answers(index: KeywordIndex, queries: string[]) {
  return queries.map((query) =>
    index.matches(query).map(({ id, score }) => [id, Number(score.toPrecision(12))] as const),
  );
}

describe("KeywordIndex", () => {
  it("scores BM25: term frequency, rarity and the document's length (its distinct tokens)", () => {
    // Lengths in distinct tokens: a 5 (see below), b 3, c 1.
    const index = built([
      ["a", "Cat, cat and dog."],
      ["b", "dog bird dog bird fish"],
      ["c", "fish"],
    ]);
    // "and" is a stop word but still a token of a's; "." leaves an empty token, as it always did.
    const lengthA = new Set("Cat, cat and dog.".split(/[\n\r\p{Z}\p{P}]+/u)).size;
    const average = (lengthA + 3 + 1) / 3;
    const cat = index.matches("cats");
    expect(cat).toHaveLength(1);
    expect(cat[0]!.score).toBeCloseTo(bm25(2, 1, 3, lengthA, average), 12);
    const dogFish = index.matches("dog fish");
    expect(dogFish.map((hit) => hit.id)).toEqual(["b", "c", "a"]);
    expect(dogFish[0]!.score).toBeCloseTo(bm25(2, 2, 3, 3, average) + bm25(1, 2, 3, 3, average), 12);
    expect(dogFish[2]!.score).toBeCloseTo(bm25(1, 2, 3, lengthA, average), 12);
    // Stemmed, lower-cased; stop words alone match nothing; a repeated query word counts twice.
    expect(index.query("CATS running", 10).map((hit) => hit.id)).toEqual(["a"]);
    expect(index.matches("the and of")).toEqual([]);
    const fishTwice = index.matches("fish fish").find((hit) => hit.id === "c");
    expect(fishTwice!.score).toBeCloseTo(2 * bm25(1, 2, 3, 1, average), 12);
  });

  it("after any mix of adds, replacements and removals, scores as an index built afresh", () => {
    const vocabulary = Array.from({ length: 400 }, (_, i) => `word${i.toString(36)}`);
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // Skewed like real text: a few words everywhere, most rare.
    const text = () =>
      Array.from(
        { length: 3 + Math.floor(random() * 30) },
        () => vocabulary[Math.floor(random() ** 3 * vocabulary.length)],
      ).join(" ");
    const queries = ["word0", "word1 word2", "word5 wordz word3 word0", "worda", "word9 word9", "nothing"];
    const live = new Map<string, string>();
    const index = KeywordIndex.empty();
    for (let round = 0; round < 12; round++) {
      const writes = Array.from({ length: 400 }, () => {
        const id = `d${Math.floor(random() * 1_200)}`;
        const roll = random();
        return { id, text: roll < 0.2 ? null : roll < 0.25 ? "  " : text() };
      });
      index.upsert(writes);
      for (const { id, text } of writes) {
        if (text?.trim()) live.set(id, text);
        else live.delete(id);
      }
      const removed = Array.from({ length: 60 }, () => `d${Math.floor(random() * 1_200)}`);
      index.remove(removed);
      for (const id of removed) live.delete(id);

      const fresh = built([...live]);
      expect(index.size).toBe(live.size);
      expect([...live.keys()].every((id) => index.has(id))).toBe(true);
      expect(answers(index, queries)).toEqual(answers(fresh, queries));
      // A saved and loaded index answers the same, and goes on taking writes.
      const loaded = KeywordIndex.fromJSON(index.toJSON());
      expect(answers(loaded, queries)).toEqual(answers(fresh, queries));
      loaded.upsert([{ id: "new", text: "word0 unheard" }]);
      expect(loaded.query("unheard", 5).map((hit) => hit.id)).toEqual(["new"]);
    }
  });

  it("refuses a saved text that is not a consistent index", () => {
    const json = built([["a", "alpha beta"]]).toJSON();
    expect(KeywordIndex.fromJSON(json).query("alpha", 1)).toHaveLength(1);
    const saved = JSON.parse(json);
    expect(() => KeywordIndex.fromJSON("{}")).toThrow();
    expect(() => KeywordIndex.fromJSON(JSON.stringify({ ...saved, ids: ["a", "b"] }))).toThrow();
    expect(() => KeywordIndex.fromJSON(JSON.stringify({ ...saved, terms: "alpha\n" }))).toThrow();
    expect(() => KeywordIndex.fromJSON(JSON.stringify({ ...saved, docs: "AAAA" }))).toThrow();
    expect(() => KeywordIndex.fromJSON(json.slice(0, -5))).toThrow();
  });
});
