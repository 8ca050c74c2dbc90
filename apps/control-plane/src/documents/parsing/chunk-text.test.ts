import { AppError } from "@vdb/http/errors";
import { describe, expect, it } from "vitest";
import { type ChunkOptions, chunkSections, countTokens, type TextChunk } from "./chunk-text";
import type { DocumentSection } from "./parsed-document";

const VOCABULARY =
  "vector search index embedding tenant query chunk overlap token boundary paragraph sentence retrieval".split(
    " ",
  );

/**
 * Deterministic prose: paragraphs of sentences of words, every fifth word a unique `n<counter>`
 * so that chunks can be stitched back together without ambiguity. `tag` prefixes every word,
 * which lets a test tell which section a word came from.
 */
function prose({
  paragraphs,
  seed = 1,
  tag = "",
}: {
  paragraphs: number;
  seed?: number;
  tag?: string;
}): string {
  let state = seed;
  let counter = 0;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const word = () => `${tag}${++counter % 5 === 0 ? `n${counter}` : VOCABULARY[next(VOCABULARY.length)]}`;
  const sentence = () => {
    const words = Array.from({ length: 6 + next(14) }, word).join(" ");
    return `${words[0]!.toUpperCase()}${words.slice(1)}.`;
  };
  return Array.from({ length: paragraphs }, () =>
    Array.from({ length: 2 + next(4) }, sentence).join(" "),
  ).join("\n\n");
}

const words = (text: string) => text.split(/\s+/).filter(Boolean);

/** Rebuilds the source's words from chunks, removing each pair's overlap; returns the overlaps too. */
function stitch(chunks: TextChunk[]): { words: string[]; overlaps: string[][] } {
  const out = words(chunks[0]?.text ?? "");
  const overlaps: string[][] = [];
  for (const chunk of chunks.slice(1)) {
    const next = words(chunk.text);
    let shared = Math.min(out.length, next.length);
    while (shared > 0 && out.slice(-shared).join(" ") !== next.slice(0, shared).join(" ")) shared--;
    overlaps.push(next.slice(0, shared));
    out.push(...next.slice(shared));
  }
  return { words: out, overlaps };
}

function expectWithinSize(chunks: TextChunk[], { chunkSize }: ChunkOptions) {
  for (const chunk of chunks) {
    expect(chunk.tokenCount).toBe(countTokens(chunk.text));
    expect(chunk.tokenCount).toBeLessThanOrEqual(chunkSize);
    expect(chunk.text).toBe(chunk.text.trim());
  }
  expect(chunks.map((chunk) => chunk.index)).toEqual(chunks.map((_, i) => i));
}

describe("countTokens", () => {
  it("counts cl100k_base tokens, treating special-token text as plain text", () => {
    expect(countTokens("")).toBe(0);
    expect(countTokens("hello world")).toBe(2);
    expect(countTokens("ignore <|endoftext|> this")).toBeGreaterThan(3);
  });

  it("counts a 210,000-character run with no spaces in 40-character slices (byte-pair encoding is quadratic in a run's length)", () => {
    // How long it takes is bench/isolation's to measure; that it takes the linear path is shown
    // here: whole, "abc" repeated is one token per "abc"; in slices, each slice is counted alone.
    const run = "abc".repeat(70_000);
    const slices = Array.from({ length: run.length / 40 }, (_, i) => run.slice(i * 40, i * 40 + 40));
    const sliced = slices.reduce((total, slice) => total + countTokens(slice), 0);
    expect(countTokens(run)).toBe(sliced);
    expect(sliced).toBeGreaterThan(70_000);
  });
});

describe("chunkSections", () => {
  it("keeps every chunk within chunkSize, with an exact tokenCount, losing no word", () => {
    const text = prose({ paragraphs: 60 });
    const options = { chunkSize: 200, chunkOverlap: 0 };
    const chunks = chunkSections([{ text }], options);
    expectWithinSize(chunks, options);
    expect(chunks.length).toBeGreaterThan(countTokens(text) / 200);
    expect(
      chunks
        .map((chunk) => chunk.text)
        .join(" ")
        .split(/\s+/),
    ).toEqual(words(text));
  });

  it("repeats about chunkOverlap tokens from each chunk at the start of the next", () => {
    const text = prose({ paragraphs: 60, seed: 2 });
    const options = { chunkSize: 200, chunkOverlap: 40 };
    const chunks = chunkSections([{ text }], options);
    expectWithinSize(chunks, options);
    const { words: stitched, overlaps } = stitch(chunks);
    expect(stitched).toEqual(words(text));
    for (const overlap of overlaps) {
      const tokens = countTokens(overlap.join(" "));
      expect(tokens).toBeGreaterThanOrEqual(15);
      expect(tokens).toBeLessThanOrEqual(45);
    }
  });

  it("breaks between paragraphs when one is near the end of the room", () => {
    const paragraphs = Array.from(
      { length: 30 },
      (_, i) => `Paragraph ${i} starts here. ${prose({ paragraphs: 1, seed: i + 10 })}`,
    );
    const chunks = chunkSections([{ text: paragraphs.join("\n\n") }], { chunkSize: 150, chunkOverlap: 0 });
    for (const chunk of chunks) {
      expect(chunk.text).toMatch(/^Paragraph \d+ starts here\./);
      expect(chunk.text).toMatch(/\.$/);
    }
  });

  it("breaks between sentences inside one long paragraph, and starts overlaps on a sentence", () => {
    const text = Array.from({ length: 200 }, (_, i) => `Sentence ${i} is short and plain.`).join(" ");
    const chunks = chunkSections([{ text }], { chunkSize: 80, chunkOverlap: 20 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(chunk.text).toMatch(/^Sentence \d+ .*\.$/s);
    const { words: stitched } = stitch(chunks);
    expect(stitched).toEqual(words(text));
  });

  it("never lets a chunk or its overlap span two pages, so page attribution is exact", () => {
    const sections: DocumentSection[] = [1, 2, 3].map((page) => ({
      page,
      text: prose({ paragraphs: 8, seed: page, tag: `p${page}` }),
    }));
    const options = { chunkSize: 120, chunkOverlap: 30 };
    const chunks = chunkSections(sections, options);
    expectWithinSize(chunks, options);
    for (const chunk of chunks) {
      for (const word of words(chunk.text))
        expect(word.toLowerCase().startsWith(`p${chunk.page}`)).toBe(true);
    }
    for (const page of [1, 2, 3]) {
      const onPage = chunks.filter((chunk) => chunk.page === page);
      expect(onPage.length).toBeGreaterThan(1);
      expect(stitch(onPage).words).toEqual(words(sections[page - 1]!.text));
    }
    expect(chunks.map((chunk) => chunk.page)).toEqual([...chunks.map((chunk) => chunk.page)].sort());
  });

  it("writes a section's heading as its first line and labels each chunk with the heading where it starts", () => {
    const sections: DocumentSection[] = [
      { heading: "Install", text: prose({ paragraphs: 4, seed: 5 }) },
      { heading: "Usage", text: prose({ paragraphs: 4, seed: 6 }) },
    ];
    const chunks = chunkSections(sections, { chunkSize: 100, chunkOverlap: 20 });
    expect(chunks[0]).toMatchObject({ heading: "Install" });
    expect(chunks[0]!.text.startsWith("Install\n")).toBe(true);
    const usage = chunks.findIndex((chunk) => chunk.text.includes("Usage\n"));
    expect(usage).toBeGreaterThan(0);
    for (const chunk of chunks.slice(0, usage)) expect(chunk.heading).toBe("Install");
    for (const chunk of chunks.slice(usage + 1)) expect(chunk.heading).toBe("Usage");
  });

  it("puts small sections on one page into one chunk, headed by the first", () => {
    const chunks = chunkSections(
      [
        { heading: "Refunds", text: "Within 30 days.", page: 4 },
        { heading: "Shipping", text: "Two to five days.", page: 4 },
      ],
      { chunkSize: 100, chunkOverlap: 10 },
    );
    expect(chunks).toEqual([
      {
        index: 0,
        page: 4,
        heading: "Refunds",
        text: "Refunds\nWithin 30 days.\n\nShipping\nTwo to five days.",
        tokenCount: countTokens("Refunds\nWithin 30 days.\n\nShipping\nTwo to five days."),
      },
    ]);
  });

  it("cuts text without spaces (CJK, base64) inside the size, losing nothing", () => {
    const cjk = "向量数据库存储嵌入并支持语义搜索。".repeat(300);
    const blob = Buffer.from(Array.from({ length: 6_000 }, (_, i) => (i * 7919) % 256)).toString("base64");
    for (const text of [cjk, blob]) {
      const options = { chunkSize: 100, chunkOverlap: 0 };
      const chunks = chunkSections([{ text }], options);
      expectWithinSize(chunks, options);
      expect(chunks.map((chunk) => chunk.text).join("")).toBe(text);
    }
    // CJK prefers its own sentence ends.
    const chunks = chunkSections([{ text: cjk }], { chunkSize: 100, chunkOverlap: 0 });
    for (const chunk of chunks.slice(0, -1)) expect(chunk.text.endsWith("。")).toBe(true);
  });

  it("is deterministic, so chunk ids <docId>:<index> are stable across re-runs", () => {
    const sections: DocumentSection[] = [
      { page: 1, text: prose({ paragraphs: 10, seed: 8 }) },
      { page: 2, heading: "Terms", text: prose({ paragraphs: 10, seed: 9 }) },
    ];
    const options = { chunkSize: 150, chunkOverlap: 30 };
    expect(chunkSections(sections, options)).toEqual(chunkSections(structuredClone(sections), options));
  });

  it("returns no chunks for no text", () => {
    expect(chunkSections([], { chunkSize: 100, chunkOverlap: 10 })).toEqual([]);
    expect(chunkSections([{ text: " \n\n " }], { chunkSize: 100, chunkOverlap: 10 })).toEqual([]);
  });

  it("rejects an overlap not below the size, and sizes the document settings refuse", () => {
    const rejected = (options: ChunkOptions) => {
      try {
        chunkSections([{ text: "x" }], options);
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        return error as AppError;
      }
      throw new Error("accepted");
    };
    const overlap = rejected({ chunkSize: 200, chunkOverlap: 200 });
    expect(overlap.code).toBe("VALIDATION_FAILED");
    expect(overlap.issues).toEqual([
      { path: "chunkOverlap", message: "chunkOverlap must be smaller than chunkSize" },
    ]);
    expect(rejected({ chunkSize: 10, chunkOverlap: 0 }).issues?.[0]?.path).toBe("chunkSize");
    expect(rejected({ chunkSize: 9000, chunkOverlap: 0 }).issues?.[0]?.path).toBe("chunkSize");
    expect(rejected({ chunkSize: 100.5, chunkOverlap: 0 }).issues?.[0]?.path).toBe("chunkSize");
    expect(rejected({ chunkSize: 100, chunkOverlap: -1 }).issues?.[0]?.path).toBe("chunkOverlap");
  });

  // Its time is not asserted here: a test asserts no wall-clock bound. Time is bench/isolation's
  // (hostile and large files); ingestion-isolation.e2e's pathological files (a one-token megabyte
  // text, 100,000 unclosed tags) must still be read within the parse deadline.
  it("chunks a 50,000-token document: every word kept once in order, every chunk within its size", () => {
    const text = prose({ paragraphs: 800, seed: 11 });
    const tokens = countTokens(text);
    expect(tokens).toBeGreaterThan(50_000);
    const options = { chunkSize: 512, chunkOverlap: 64 };
    const chunks = chunkSections([{ text }], options);
    expectWithinSize(chunks, options);
    expect(stitch(chunks).words).toEqual(words(text));
  });
});
