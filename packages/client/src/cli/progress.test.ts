import { describe, expect, it } from "vitest";
import { FileProgress, RecordProgress } from "./progress";

function fakeStream(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns, write: (text: string) => writes.push(text) } };
}

describe("FileProgress", () => {
  it("on a terminal: one line redrawn in place, finished files printed above it, cleared at the end", () => {
    const { writes, stream } = fakeStream(true);
    const progress = new FileProgress(stream, 2);
    progress.update("a.md", "uploading");
    progress.update("a.md", "3/10 chunks");
    progress.update("b.txt", "queued");
    expect(writes.at(-1)).toBe(`\r\x1b[2K${"░".repeat(24)} 0/2 files │ a.md 3/10 chunks, b.txt queued`);
    progress.complete("a.md", "ready, 10 chunks");
    expect(writes.at(-2)).toBe("\r\x1b[2K[1/2] a.md: ready, 10 chunks\n");
    expect(writes.at(-1)).toBe(`\r\x1b[2K${"█".repeat(12)}${"░".repeat(12)} 1/2 files │ b.txt queued`);
    progress.complete("b.txt", "failed: not a PDF");
    progress.stop();
    expect(writes.slice(-1)).toEqual(["\r\x1b[2K[2/2] b.txt: failed: not a PDF\n"]);
    expect(writes.every((text) => !text.includes("\n") || text.endsWith("\n"))).toBe(true);
  });

  it("on a terminal: the line never wraps, however many files are in flight", () => {
    const { writes, stream } = fakeStream(true, 40);
    const progress = new FileProgress(stream, 3);
    progress.update("a-rather-long-file-name.md", "12/400 chunks");
    const line = writes.at(-1)!.replace("\r\x1b[2K", "");
    expect(line).toHaveLength(39);
    expect(line.endsWith("…")).toBe(true);
  });

  it("in a log: a line per finished file, a status line at most every interval, no carriage returns", () => {
    const { writes, stream } = fakeStream(false);
    let now = 0;
    const progress = new FileProgress(stream, 2, { intervalMs: 5_000, now: () => now });
    progress.update("a.md", "uploading");
    now = 4_000;
    progress.update("a.md", "2/10 chunks");
    expect(writes).toEqual([]);
    now = 5_000;
    progress.update("a.md", "5/10 chunks");
    now = 6_000;
    progress.update("a.md", "6/10 chunks");
    progress.complete("a.md", "ready, 10 chunks");
    progress.stop();
    expect(writes).toEqual(["[0/2] files done; a.md 5/10 chunks\n", "[1/2] a.md: ready, 10 chunks\n"]);
  });
});

describe("RecordProgress", () => {
  it("on a terminal: one bar redrawn in place with the percentage and counts, cleared at the end", () => {
    const { writes, stream } = fakeStream(true);
    const progress = new RecordProgress(stream, "backup of acme");
    progress.update(0, 4_000);
    progress.update(1_000, 4_000);
    expect(writes.at(-1)).toBe(
      `\r\x1b[2K${"█".repeat(6)}${"░".repeat(18)} 25% backup of acme: 1,000/4,000 records`,
    );
    progress.stop();
    expect(writes.at(-1)).toBe("\r\x1b[2K");
  });

  it("elsewhere: a plain line at most every interval", () => {
    const { writes, stream } = fakeStream(false);
    let now = 0;
    const progress = new RecordProgress(stream, "restore into acme", { intervalMs: 1_000, now: () => now });
    progress.update(10, 100);
    progress.update(20, 100);
    now = 1_500;
    progress.update(90, 100);
    progress.stop();
    expect(writes).toEqual(["restore into acme: 10/100 records\n", "restore into acme: 90/100 records\n"]);
  });
});
