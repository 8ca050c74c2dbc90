import { describe, expect, it } from "vitest";
import { createLimiter } from "./concurrency";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("createLimiter", () => {
  it("runs everything, never more than the limit at once", async () => {
    const limit = createLimiter(3);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7].map((n) =>
        limit(async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(5 * (n % 3));
          running--;
          return n * 10;
        }),
      ),
    );
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it("does not let a slow one hold up the others", async () => {
    const limit = createLimiter(2);
    const order: string[] = [];
    await Promise.all(
      ["slow", "a", "b", "c"].map((name) =>
        limit(async () => {
          await sleep(name === "slow" ? 60 : 5);
          order.push(name);
        }),
      ),
    );
    expect(order).toEqual(["a", "b", "c", "slow"]);
  });

  it("hands a freed slot to the one waiting, not to a caller arriving as it frees", async () => {
    // A caller whose turn comes between the slot being freed and the waiter resuming: tried at
    // several distances (in promise ticks) from the moment the running work ends.
    for (let ticks = 0; ticks < 6; ticks++) {
      const limit = createLimiter(1);
      let running = 0;
      let peak = 0;
      const job = (wait: Promise<unknown>) =>
        limit(async () => {
          running++;
          peak = Math.max(peak, running);
          await wait;
          running--;
        });
      let open = () => {};
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const first = job(gate);
      const waiting = job(sleep(1));
      let late: Promise<unknown> = gate;
      for (let i = 0; i < ticks; i++) late = late.then(() => undefined);
      const arriving = late.then(() => job(sleep(1)));
      open();
      await Promise.all([first, waiting, arriving]);
      expect({ ticks, peak }).toEqual({ ticks, peak: 1 });
    }
  });

  it("passes a failure to its caller and frees the slot", async () => {
    const limit = createLimiter(1);
    await expect(limit(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limit(async () => "next")).toBe("next");
  });
});
