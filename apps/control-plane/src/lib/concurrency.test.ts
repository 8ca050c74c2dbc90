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

  it("passes a failure to its caller and frees the slot", async () => {
    const limit = createLimiter(1);
    await expect(limit(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limit(async () => "next")).toBe("next");
  });
});
