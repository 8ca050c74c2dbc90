import { describe, expect, it } from "vitest";
import {
  endOfDayIso,
  formatBytes,
  formatCompact,
  formatDateTime,
  formatDuration,
  formatIngestion,
  formatPercent,
  formatRelative,
  formatScore,
} from "./format";

describe("formatting", () => {
  it("sizes in binary units, whole numbers without a decimal", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(50 * 1024 * 1024)).toBe("50 MB");
    expect(formatBytes(null)).toBe("—");
  });

  it("waits in seconds, minutes or hours, and unknown ones as such", () => {
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(95)).toBe("95 s");
    expect(formatDuration(600)).toBe("10 min");
    expect(formatDuration(3 * 3600)).toBe("3 h");
    expect(formatDuration(null)).toBe("unknown");
  });

  it("times in UTC, and relative to now", () => {
    expect(formatDateTime("2025-03-01T14:05:09.000Z")).toBe("2025-03-01 14:05 UTC");
    expect(formatDateTime(null)).toBe("—");
    const now = new Date("2025-03-10T12:00:00Z");
    expect(formatRelative(null, now)).toBe("never");
    expect(formatRelative("2025-03-10T11:59:50Z", now)).toBe("just now");
    expect(formatRelative("2025-03-10T11:30:00Z", now)).toBe("30 min ago");
    expect(formatRelative("2025-03-10T09:00:00Z", now)).toBe("3 h ago");
    expect(formatRelative("2025-03-09T12:00:00Z", now)).toBe("yesterday");
    expect(formatRelative("2025-03-01T12:00:00Z", now)).toBe("9 days ago");
    expect(formatRelative("2025-03-12T12:00:00Z", now)).toBe("in 2 days");
  });

  it("scores, percentages and compact numbers", () => {
    expect(formatScore(0.75)).toBe("0.750");
    expect(formatScore(12.345678, 2)).toBe("12.35");
    expect(formatScore(undefined)).toBe("—");
    expect(formatPercent(1, 1_000_000)).toBe("<1%");
    expect(formatPercent(50, 200)).toBe("25%");
    expect(formatPercent(500, 200)).toBe("100%");
    expect(formatPercent(1, 0)).toBe("0%");
    expect(formatCompact(1_500_000)).toBe("1.5M");
  });

  it("turns a picked day into the end of that day in UTC", () => {
    expect(endOfDayIso("2030-01-31")).toBe("2030-01-31T23:59:59.000Z");
    expect(endOfDayIso("31/01/2030")).toBeUndefined();
  });
});

describe("formatIngestion", () => {
  it("says queued, then parsing while no chunk is counted, then chunks embedded of all", () => {
    expect(formatIngestion(null)).toBe("Queued for ingestion…");
    expect(formatIngestion({ done: 0, total: 0 })).toBe("Parsing…");
    expect(formatIngestion({ done: 64, total: 1200 })).toBe("Ingesting: 64 of 1,200 chunks");
  });
});
