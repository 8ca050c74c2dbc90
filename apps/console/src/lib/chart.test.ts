import { describe, expect, it } from "vitest";
import { countAxis, dailySeries, daysBetween, layoutBars } from "./chart";

describe("usage chart geometry", () => {
  it("picks whole-number axes with 1-2-5 steps", () => {
    expect(countAxis(0)).toEqual({ max: 1, ticks: [0, 1] });
    expect(countAxis(1)).toEqual({ max: 1, ticks: [0, 1] });
    expect(countAxis(3)).toEqual({ max: 3, ticks: [0, 1, 2, 3] });
    expect(countAxis(7)).toEqual({ max: 8, ticks: [0, 2, 4, 6, 8] });
    expect(countAxis(17)).toEqual({ max: 20, ticks: [0, 5, 10, 15, 20] });
    expect(countAxis(8_640_000)).toEqual({ max: 10_000_000, ticks: [0, 5_000_000, 10_000_000] });
  });

  it("lists every day of a window, both ends included", () => {
    expect(daysBetween("2025-02-27", "2025-03-02")).toEqual([
      "2025-02-27",
      "2025-02-28",
      "2025-03-01",
      "2025-03-02",
    ]);
    expect(daysBetween("2025-03-02", "2025-03-01")).toEqual([]);
  });

  it("fills days without usage with zero, one kind at a time", () => {
    const rows = [
      { date: "2025-03-01", kind: "search", quantity: 4 },
      { date: "2025-03-01", kind: "chat", quantity: 9 },
      { date: "2025-03-03", kind: "search", quantity: 2 },
    ];
    expect(dailySeries(rows, "search", daysBetween("2025-03-01", "2025-03-03"))).toEqual([
      { date: "2025-03-01", value: 4 },
      { date: "2025-03-02", value: 0 },
      { date: "2025-03-03", value: 2 },
    ]);
  });

  it("scales bars to the plot, keeps tiny values visible and clips at the axis maximum", () => {
    const bars = layoutBars(
      [
        { date: "a", value: 0 },
        { date: "b", value: 50 },
        { date: "c", value: 100 },
        { date: "d", value: 0.001 },
        { date: "e", value: 400 },
      ],
      { width: 500, height: 100, max: 100, gap: 10 },
    );
    expect(bars.map((bar) => bar.height)).toEqual([0, 50, 100, 1, 100]);
    expect(bars.map((bar) => bar.y)).toEqual([100, 50, 0, 99, 0]);
    expect(bars[1]).toMatchObject({ x: 105, width: 90 });
    expect(layoutBars([], { width: 10, height: 10, max: 1 })).toEqual([]);
  });
});
