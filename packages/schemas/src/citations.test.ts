import { describe, expect, it } from "vitest";
import { splitCitations } from "./citations";

describe("citation markers in an answer", () => {
  it("cuts text and numbered markers apart, including grouped ones", () => {
    expect(splitCitations("Yes [1]. Also [2, 3]")).toEqual([
      { kind: "text", text: "Yes " },
      { kind: "citation", n: 1 },
      { kind: "text", text: ". Also " },
      { kind: "citation", n: 2 },
      { kind: "citation", n: 3 },
    ]);
  });

  it("leaves text without markers (and bracketed words) alone", () => {
    expect(splitCitations("no sources [here]")).toEqual([{ kind: "text", text: "no sources [here]" }]);
    expect(splitCitations("")).toEqual([]);
  });

  it("takes only one- or two-digit numbers, as the server writes them", () => {
    expect(splitCitations("In [2024] it changed [12]")).toEqual([
      { kind: "text", text: "In [2024] it changed " },
      { kind: "citation", n: 12 },
    ]);
  });
});
