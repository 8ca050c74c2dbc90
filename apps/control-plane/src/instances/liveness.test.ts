import { describe, expect, it } from "vitest";
import { Liveness } from "./liveness";
import { crashBackoffMs } from "./reconciler";

describe("liveness: busy is not dead", () => {
  it("takes an instance for dead only after enough missed probes AND a long enough silence", () => {
    const liveness = new Liveness({ failures: 3, timeoutMs: 10_000 });
    liveness.answered("t", 0);
    // Many misses in a short time: busy.
    expect(liveness.missed("t", 1_000).dead).toBe(false);
    expect(liveness.missed("t", 2_000).dead).toBe(false);
    expect(liveness.missed("t", 3_000)).toEqual({ dead: false, missed: 3, silentForMs: 3_000 });
    expect(liveness.missed("t", 10_000)).toEqual({ dead: true, missed: 4, silentForMs: 10_000 });
  });

  it("a long silence of this process (few probes sent) is not counted against the instance", () => {
    const liveness = new Liveness({ failures: 3, timeoutMs: 10_000 });
    liveness.answered("t", 0);
    // The control plane sent one probe, then stalled for a minute, then sent another.
    expect(liveness.missed("t", 1_000).dead).toBe(false);
    expect(liveness.missed("t", 61_000).dead).toBe(false);
    liveness.answered("t", 62_000);
    expect(liveness.missed("t", 63_000)).toMatchObject({ dead: false, missed: 1 });
  });

  it("one answered probe starts the count again; without any answer the silence counts from the first miss", () => {
    const liveness = new Liveness({ failures: 2, timeoutMs: 5_000 });
    liveness.missed("adopted", 100_000);
    expect(liveness.missed("adopted", 104_000).dead).toBe(false);
    expect(liveness.missed("adopted", 105_000).dead).toBe(true);
    liveness.forget("adopted");
    expect(liveness.missed("adopted", 200_000)).toEqual({ dead: false, missed: 1, silentForMs: 0 });
  });
});

describe("crash backoff", () => {
  it("restarts a first crash at once, then waits 1, 2, 4… s, at most 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map(crashBackoffMs)).toEqual([
      0, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });
});
