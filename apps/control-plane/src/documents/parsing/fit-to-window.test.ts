import {
  encodeWithVocabulary,
  USE_LITE_MAX_TOKENS,
  useLiteTokenWindow,
} from "@vdb/embeddings/use-lite-tokens";
import { describe, expect, it } from "vitest";
import { chunkSections } from "./chunk-text";
import { fitChunksToWindow } from "./fit-to-window";

const sentence = (i: number) =>
  `Rule ${i} of the handbook says who approves travel, which form to file and how long a refund takes. `;
const squash = (text: string) => text.replace(/\s+/g, " ").trim();

describe("fitChunksToWindow (use-lite's own tokenizer)", () => {
  it("cuts chunks the model would read only the start of into pieces it reads whole, keeping all the text in order", async () => {
    const window = await useLiteTokenWindow();
    const text = Array.from({ length: 60 }, (_, i) => sentence(i)).join("");
    // The default chunk size (400 cl100k tokens) is several of use-lite's 128-token windows.
    const chunks = chunkSections([{ text, page: 3, heading: "Travel" }], { chunkSize: 400, chunkOverlap: 0 });
    expect(chunks.some((chunk) => !window.fits(chunk.text))).toBe(true);
    const fitted = fitChunksToWindow(chunks, window);
    expect(fitted.length).toBeGreaterThan(chunks.length);
    for (const chunk of fitted) {
      const { ids, truncated } = await encodeWithVocabulary(chunk.text);
      expect(truncated).toBe(false);
      expect(ids.length).toBeLessThanOrEqual(USE_LITE_MAX_TOKENS);
      expect(chunk).toMatchObject({ page: 3, heading: "Travel" });
      expect(chunk.tokenCount).toBeGreaterThan(0);
    }
    expect(fitted.map((chunk) => chunk.index)).toEqual(fitted.map((_, i) => i));
    expect(squash(fitted.map((chunk) => chunk.text).join(" "))).toBe(
      squash(chunks.map((c) => c.text).join(" ")),
    );
    // Cut at sentence ends where there is one in reach.
    for (const chunk of fitted.slice(0, -1)) expect(chunk.text).toMatch(/\.$/);
    // Pieces are not needlessly small: each fills at least half the window.
    for (const chunk of fitted.slice(0, -1))
      expect((await encodeWithVocabulary(chunk.text)).ids.length).toBeGreaterThan(USE_LITE_MAX_TOKENS / 2);
  });

  it("leaves chunks that fit as they are, and cuts a run without spaces mid-word", async () => {
    const window = await useLiteTokenWindow();
    const short = { index: 0, text: "A short chunk.", tokenCount: 4 };
    const run = { index: 1, text: "ab9".repeat(2_000), tokenCount: 1_500 };
    const fitted = fitChunksToWindow([short, run], window);
    expect(fitted[0]).toEqual(short);
    expect(fitted.length).toBeGreaterThan(2);
    expect(
      fitted
        .slice(1)
        .map((chunk) => chunk.text)
        .join(""),
    ).toBe(run.text);
    for (const chunk of fitted) expect(window.fits(chunk.text)).toBe(true);
  });
});
