import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { watchChanges } from "./watch-changes";

interface Thing {
  state: string;
  done: number;
}

/** A stored value, the events this process emits for it, and how often it was read. */
function source(initial: Thing) {
  const events = new EventEmitter<{ change: [Thing] }>();
  const store = { value: initial, reads: 0 };
  return {
    store,
    events,
    /** A change made by this process: stored, then announced with the value. */
    change(value: Thing) {
      store.value = value;
      events.emit("change", value);
    },
    watch(opts: { carryValue: boolean; signal?: AbortSignal; pollMs?: number }) {
      return watchChanges<Thing>({
        read: async () => {
          store.reads++;
          return store.value;
        },
        subscribe: (notify) => {
          const onChange = (value: Thing) => (opts.carryValue ? notify(value) : notify());
          events.on("change", onChange);
          return () => events.off("change", onChange);
        },
        key: (value) => `${value.state}|${value.done}`,
        isDone: (value) => value.state === "finished",
        ...(opts.signal ? { signal: opts.signal } : {}),
        pollMs: opts.pollMs ?? 60_000,
      });
    },
  };
}

async function collect<T>(stream: AsyncGenerator<T>): Promise<T[]> {
  const seen: T[] = [];
  for await (const value of stream) seen.push(value);
  return seen;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("watchChanges", () => {
  it("with values on its events, yields every state in order, even ones that pass in the same tick, and ends when done", async () => {
    const thing = source({ state: "queued", done: 0 });
    const watching = collect(thing.watch({ carryValue: true }));
    await tick();
    thing.change({ state: "running", done: 1 });
    thing.change({ state: "running", done: 2 });
    thing.change({ state: "running", done: 2 }); // the same change twice is yielded once
    thing.change({ state: "finished", done: 3 });
    thing.change({ state: "queued", done: 0 }); // after the end: not seen
    expect(await watching).toEqual([
      { state: "queued", done: 0 },
      { state: "running", done: 1 },
      { state: "running", done: 2 },
      { state: "finished", done: 3 },
    ]);
    expect(thing.events.listenerCount("change")).toBe(0);
  });

  it("with bare events, reads the store again, including after an event that came while it was reading", async () => {
    const thing = source({ state: "queued", done: 0 });
    const stream = thing.watch({ carryValue: false });
    expect((await stream.next()).value).toEqual({ state: "queued", done: 0 });
    // Announced before the watcher waits again: must not wait for the (minute-long) poll.
    thing.change({ state: "running", done: 1 });
    expect((await stream.next()).value).toEqual({ state: "running", done: 1 });
    thing.change({ state: "finished", done: 2 });
    expect((await stream.next()).value).toEqual({ state: "finished", done: 2 });
    expect((await stream.next()).done).toBe(true);
  });

  it("polls the store for changes made elsewhere (no event), and stops when its signal aborts", async () => {
    const thing = source({ state: "queued", done: 0 });
    const controller = new AbortController();
    const seen: Thing[] = [];
    const watching = (async () => {
      for await (const value of thing.watch({ carryValue: true, signal: controller.signal, pollMs: 5 })) {
        seen.push(value);
        // Another process's write: stored, never announced here.
        if (value.done < 3) thing.store.value = { state: "running", done: value.done + 1 };
        else controller.abort();
      }
    })();
    await watching;
    expect(seen.map((value) => value.done)).toEqual([0, 1, 2, 3]);
    expect(thing.events.listenerCount("change")).toBe(0);
  });
});
