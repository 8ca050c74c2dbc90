import { describe, expect, it } from "vitest";
import { EXTRACTIVE_INTRO, extractiveAnswer } from "./extractive-answer";
import type { Source } from "./retrieve-sources";

function source(n: number, text: string, score: number): Source {
  return {
    n,
    documentId: null,
    chunkId: `rec-${n}`,
    title: `Source ${n}`,
    page: null,
    heading: null,
    snippet: text.slice(0, 40),
    score,
    text,
  };
}

const sources = [
  source(1, "Parking is free in garage B. The garage opens at seven.", 0.4),
  source(2, "Welcome to the handbook. Employees receive 30 days of paid vacation per year.", 0.3),
  // Overlapping chunks repeat text: quoted once.
  source(3, "Employees receive 30 days of paid vacation per year. Unused days expire in March.", 0.2),
];

describe("extractiveAnswer", () => {
  it("quotes the sentences sharing the question's words, each with its source, under a plain label", () => {
    const answer = extractiveAnswer("How many vacation days do employees get?", sources)!;
    const [intro, blank, ...lines] = answer.split("\n");
    expect(intro).toBe(EXTRACTIVE_INTRO);
    expect(blank).toBe("");
    expect(lines[0]).toBe("- Employees receive 30 days of paid vacation per year. [2]");
    expect(lines).toContain("- Unused days expire in March. [3]");
    expect(answer).not.toContain("garage");
    expect(answer.match(/30 days/g)).toHaveLength(1);
  });

  it("is null when no passage is about the question", () => {
    expect(extractiveAnswer("What is the airspeed of a swallow?", sources)).toBeNull();
    expect(extractiveAnswer("anything", [])).toBeNull();
  });

  it("quotes a very similar passage even without shared words (a paraphrase a semantic model found)", () => {
    const answer = extractiveAnswer("Where do I leave my car?", [
      source(1, "Parking is free in garage B.", 0.8),
    ]);
    expect(answer).toContain("- Parking is free in garage B. [1]");
  });
});
