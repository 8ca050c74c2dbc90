import { describe, expect, it } from "vitest";
import { createTenantGate } from "./tenant-gate";

describe("a pool tenant's gate", () => {
  it("runs `concurrency` at once, queues `queue` more in order, and refuses the rest with 429", async () => {
    const gate = createTenantGate({ concurrency: 2, queue: 1 });
    const first = await gate.enter();
    await gate.enter();
    const order: string[] = [];
    const queued = gate.enter().then((leave) => {
      order.push("queued ran");
      return leave;
    });
    await expect(gate.enter()).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(order).toEqual([]);
    first();
    first(); // a second release of the same slot frees nothing more
    (await queued)();
    expect(order).toEqual(["queued ran"]);
    // one slot held (the second), one free again, nothing waiting
    const again = await gate.enter();
    await expect(Promise.race([gate.enter(), Promise.resolve("waits")])).resolves.toBe("waits");
    again();
  });

  it("one tenant's full gate leaves another tenant's untouched", async () => {
    const busy = createTenantGate({ concurrency: 1, queue: 0 });
    const quiet = createTenantGate({ concurrency: 1, queue: 0 });
    await busy.enter();
    await expect(busy.enter()).rejects.toMatchObject({ code: "RATE_LIMITED" });
    const leave = await quiet.enter();
    leave();
  });
});
