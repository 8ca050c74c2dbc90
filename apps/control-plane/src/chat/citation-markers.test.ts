import { describe, expect, it } from "vitest";
import { CitationRenumberer, withoutCitationMarkers } from "./citation-markers";

/** Streams `pieces` through a renumberer; returns what each push emitted and the whole text. */
function stream(sourceCount: number, pieces: string[]) {
  const markers = new CitationRenumberer(sourceCount);
  const emitted = pieces.map((piece) => markers.push(piece));
  emitted.push(markers.flush());
  return { emitted, text: emitted.join(""), cited: markers.cited };
}

describe("CitationRenumberer", () => {
  it("numbers sources in the order they are first cited", () => {
    const { text, cited } = stream(5, ["Leave is 30 days [3]. ", "Ask HR [1][3], or [5, 1]."]);
    expect(text).toBe("Leave is 30 days [1]. Ask HR [2][1], or [3, 2].");
    expect(cited).toEqual([3, 1, 5]);
  });

  it("holds a marker split across tokens until it is whole, so what streams is final", () => {
    const { emitted, text } = stream(4, ["Thirty days [", "4", "]. Free parking [2", ", 4]."]);
    expect(emitted).toEqual(["Thirty days", "", " [1]. Free parking", " [2, 1].", ""]);
    expect(text).toBe("Thirty days [1]. Free parking [2, 1].");
  });

  it("drops markers naming no source and leaves other brackets alone", () => {
    const { text, cited } = stream(2, ["In [2024] the rule [7] changed [2]; see a[i] and [", "x]."]);
    expect(text).toBe("In [2024] the rule changed [1]; see a[i] and [x].");
    expect(cited).toEqual([2]);
  });

  it("cites nothing when there are no sources", () => {
    expect(stream(0, ["I could not find this [1]."])).toMatchObject({
      text: "I could not find this.",
      cited: [],
    });
  });
});

describe("withoutCitationMarkers", () => {
  it("strips an earlier answer's markers", () => {
    expect(withoutCitationMarkers("Thirty days [1]. Parking is free [2, 3].")).toBe(
      "Thirty days. Parking is free.",
    );
  });
});
