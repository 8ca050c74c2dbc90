import { rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ChromaState, ChromaSupervisor } from "./chroma-supervisor";
import { instanceApi, startTestInstance, type TestInstance } from "./testing";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "vdb-chroma-supervisor-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The supervisor's state changes, and a way to wait for the next one that matters. */
function stateLog() {
  const seen: ChromaState[] = [];
  const waiters: { state: ChromaState; resolve: () => void }[] = [];
  return {
    seen,
    onStateChange(state: ChromaState) {
      seen.push(state);
      for (const waiter of waiters.filter((w) => w.state === state)) waiter.resolve();
    },
    reached(state: ChromaState): Promise<void> {
      if (seen.at(-1) === state) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ state, resolve }));
    },
  };
}

describe("the instance's Chroma, restarted in place after a crash", () => {
  it("kill -9 of Chroma: requests get 503 + Retry-After meanwhile, then a search finds the data again", async () => {
    const states = stateLog();
    const chroma = await ChromaSupervisor.start({
      path: await tempDir(),
      onStateChange: states.onStateChange,
    });
    cleanups.push(() => chroma.stop());
    const instance: TestInstance = await startTestInstance({
      chromaUrl: chroma.url,
      isChromaAvailable: () => chroma.isAvailable(),
    });
    cleanups.push(() => instance.close());
    const token = await instance.token(["write"]);
    const embed = await instanceApi(instance.url, "POST", "/embed", {
      token,
      body: { ids: ["a", "b"], documents: ["a note about cats", "an invoice for March"] },
    });
    expect(embed.status, JSON.stringify(embed.body)).toBe(200);

    const firstPid = chroma.pid;
    const url = chroma.url;
    process.kill(firstPid, "SIGKILL");
    await states.reached("restarting");

    const during = await instanceApi(instance.url, "POST", "/search", { token, body: { query: "cats" } });
    expect(during.status).toBe(503);
    expect(during.headers.get("retry-after")).toBe("1");
    expect(during.body.error).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    expect(during.body.error.message).toMatch(/restarting/);
    const health = await instanceApi(instance.url, "GET", "/healthz");
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: "degraded" });

    await states.reached("running");
    expect(chroma.pid).not.toBe(firstPid);
    expect(chroma.url).toBe(url); // same port: every client keeps its address
    const after = await instanceApi(instance.url, "POST", "/search", {
      token,
      body: { query: "cats", nResults: 1 },
    });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body.results[0]).toMatchObject({ id: "a" });
    expect((await instanceApi(instance.url, "GET", "/healthz")).status).toBe(200);
    expect(states.seen).toEqual(["restarting", "running"]);
  });

  it("gives up after its bounded attempts when Chroma cannot start again, and says so once", async () => {
    const dir = await tempDir();
    const states = stateLog();
    const gaveUp: Error[] = [];
    const chroma = await ChromaSupervisor.start({
      path: dir,
      backoffMs: [0, 10, 10],
      onStateChange: states.onStateChange,
      onGiveUp: (error) => gaveUp.push(error),
    });
    cleanups.push(() => chroma.stop());

    process.kill(chroma.pid, "SIGKILL");
    // Before the exit is even noticed, the data directory becomes a file: no restart can work.
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, "not a directory");
    await states.reached("failed");

    expect(gaveUp).toHaveLength(1);
    expect(chroma.isAvailable()).toBe(false);
    expect(states.seen).toEqual(["restarting", "failed"]);
  });
});
