import { describe, expect, it } from "vitest";
import { runInOrder } from "./concurrency";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("runInOrder", () => {
  it("keeps at most the given number running and hands results over in index order", async () => {
    let running = 0;
    let peak = 0;
    const seen: [number, string][] = [];
    // Later ones finish first: their results still come after the earlier ones'.
    const delays = [40, 5, 30, 1, 20, 1, 1];
    await runInOrder(
      delays.length,
      2,
      async (index) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(delays[index]!);
        running--;
        return `r${index}`;
      },
      (index, result) => {
        seen.push([index, result]);
      },
    );
    expect(seen).toEqual(delays.map((_, index) => [index, `r${index}`]));
    expect(peak).toBe(2);
  });

  it("one at a time with 1", async () => {
    let running = 0;
    let peak = 0;
    await runInOrder(
      4,
      1,
      async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(2);
        running--;
      },
      () => {},
    );
    expect(peak).toBe(1);
  });

  it("after a failure starts nothing more, waits for the started ones and throws the earliest failure", async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const handed: number[] = [];
    const outcome = runInOrder(
      10,
      3,
      async (index) => {
        started.push(index);
        // 2 fails last of the three running, 3 fails too: 2 is the earliest failure.
        await sleep(index === 2 ? 30 : index === 3 ? 1 : 10);
        finished.push(index);
        if (index === 2 || index === 3) throw new Error(`batch ${index} failed`);
        return index;
      },
      (index) => {
        handed.push(index);
      },
    );
    await expect(outcome).rejects.toThrow("batch 2 failed");
    expect(handed).toEqual([0, 1]);
    // 0, 1, 2 first; 3 and 4 as 0 and 1 were handed over; nothing after 2 failed.
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect([...finished].sort()).toEqual([...started].sort());
  });

  it("a failure of the in-order step stops it too", async () => {
    const handed: number[] = [];
    await expect(
      runInOrder(
        5,
        2,
        async (index) => index,
        (index) => {
          if (index === 1) throw new Error("report failed");
          handed.push(index);
        },
      ),
    ).rejects.toThrow("report failed");
    expect(handed).toEqual([0]);
  });
});
