import { closeSync, openSync } from "node:fs";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { logDestination } from "./log-destination";

const failure = (code: string) => Object.assign(new Error(code), { code });

/** A writer that fails with `code` while `failing()` says so, and otherwise takes at most `chunk` bytes. */
function flakyWriter(failing: () => string | null, chunk = Number.POSITIVE_INFINITY) {
  let text = "";
  const write = (bytes: Buffer, offset: number, length: number) => {
    const code = failing();
    if (code) throw failure(code);
    const n = Math.min(length, chunk);
    text += bytes.subarray(offset, offset + n).toString();
    return n;
  };
  return { write, lines: () => text.split("\n").filter(Boolean) };
}

describe("logDestination", () => {
  it("drops what a full device (/dev/full: ENOSPC on every write) refuses, without throwing or blocking", () => {
    const full = openSync("/dev/full", "w");
    try {
      const logger = pino({ base: null }, logDestination(full));
      expect(() => {
        for (let i = 0; i < 100; i += 1) logger.info({ i }, "cannot be written");
        logger.flush();
      }).not.toThrow();
    } finally {
      closeSync(full);
    }
  });

  it("says how many lines were lost once the destination takes lines again, on a line of its own", () => {
    let isFull = false;
    // Takes 10 bytes at a time; once full, the line being written is cut off mid-way.
    const writer = flakyWriter(() => (isFull ? "ENOSPC" : null), 10);
    const logger = pino({ base: null, timestamp: false }, logDestination(1, writer.write));
    logger.info("before");
    isFull = true;
    logger.info("lost one");
    logger.info("lost two");
    isFull = false;
    logger.info("after");
    const lines = writer.lines().map((line) => JSON.parse(line));
    expect(lines.map((line) => line.msg)).toEqual([
      "before",
      "log lines were dropped: their destination refused them",
      "after",
    ]);
    expect(lines[1]).toMatchObject({ droppedLines: 2, lastError: "ENOSPC" });
  });

  it("finishes a line the destination cut off before the next one, and waits out a briefly busy pipe", () => {
    let calls = 0;
    // The third write call fails (mid-line), then two EAGAINs (a busy pipe), then all goes through.
    const writer = flakyWriter(() => {
      calls += 1;
      if (calls === 3) return "ENOSPC";
      if (calls === 5 || calls === 6) return "EAGAIN";
      return null;
    }, 16);
    const logger = pino({ base: null, timestamp: false }, logDestination(1, writer.write));
    logger.info("a line longer than sixteen bytes");
    logger.info("the next line, whole");
    const lines = writer.lines();
    expect(lines).toHaveLength(3);
    expect(() => JSON.parse(lines[0]!)).toThrow(); // the cut-off line, on its own
    expect(JSON.parse(lines[1]!)).toMatchObject({ droppedLines: 1, lastError: "ENOSPC" });
    expect(JSON.parse(lines[2]!)).toMatchObject({ msg: "the next line, whole" });
  });

  it("drops a line when the pipe stays busy, rather than block the process", () => {
    const writer = flakyWriter(() => "EAGAIN");
    const logger = pino({ base: null }, logDestination(1, writer.write));
    logger.info("never written");
    expect(writer.lines()).toEqual([]);
  });
});
