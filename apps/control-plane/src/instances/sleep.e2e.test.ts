import { existsSync } from "node:fs";
import path from "node:path";
import type { Instance } from "@vdb/schemas/instances";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import {
  api,
  launchUntilRunning,
  tenantWithKey,
  trpcAs,
  trpcLiveAs,
  until,
  watchUntil,
} from "../testing/http";

const IDLE_MS = 600_000;

/** Every status the tenant's instance goes through until `stop()` is called. */
function recordStates(server: TestServer, tenantId: string) {
  const states: Instance[] = [];
  const listener = (instance: Instance) => {
    if (instance.tenantId === tenantId) states.push(instance);
  };
  server.services.reconciler.on("change", listener);
  return { states, stop: () => server.services.reconciler.off("change", listener) };
}

/** Counts the instance processes the runtime is asked to start, per tenant. */
function countStarts(server: TestServer): Map<string, number> {
  const starts = new Map<string, number>();
  const { runtime } = server.services;
  const start = runtime.start.bind(runtime);
  runtime.start = (spec) => {
    starts.set(spec.tenantId, (starts.get(spec.tenantId) ?? 0) + 1);
    return start(spec);
  };
  return starts;
}

/** Whether the runtime stops listing a process for the tenant (checked for up to a minute). */
async function processGone(server: TestServer, tenantId: string): Promise<boolean> {
  const isListed = async () =>
    (await server.services.runtime.list()).some((handle) => handle.tenantId === tenantId);
  return until("the tenant's process to end", isListed, (listed) => !listed, {
    timeoutMs: 60_000,
    everyMs: 100,
  })
    .then(() => true)
    .catch(() => false);
}

function search(server: TestServer, key: string, query: string) {
  return api(server.url, "POST", "/search", { token: key, body: { query, nResults: 3, mode: "vector" } });
}

async function statusOf(server: TestServer, tenantId: string): Promise<Instance> {
  return (await api(server.url, "GET", `/status/${tenantId}`, { token: server.adminToken })).body;
}

const DOCUMENTS = [
  "Sleeping instances keep their data on disk.",
  "The first request wakes a sleeping instance.",
  "Chroma stores the vectors of every tenant apart.",
];

describe("idle dedicated instances sleep and wake on the first request", () => {
  let server: TestServer;
  // The control plane's clock (reconciler and activity): moved forward instead of waiting out the
  // idle time, and back once the instances sleep (a start's timeout is measured against the store's clock).
  let offsetMs = 0;
  let starts: Map<string, number>;
  let a: { tenantId: string; key: string };
  let b: { tenantId: string; key: string };
  let resultsBefore: unknown;

  /** Moves the clock past the idle time and waits, on the live status stream, until each tenant sleeps. */
  async function idleUntilAsleep(...tenantIds: string[]): Promise<void> {
    offsetMs = IDLE_MS + 1_000;
    try {
      const live = trpcLiveAs(server.url, server.adminToken);
      await Promise.all(tenantIds.map((id) => watchUntil(live, id, (i) => i?.state === "sleeping")));
      for (const id of tenantIds) expect(await processGone(server, id)).toBe(true);
    } finally {
      offsetMs = 0;
    }
  }

  beforeAll(async () => {
    server = await startTestServer({
      // A sweep every 200 ms: it is a sweep that finds an instance idle and puts it to sleep.
      env: { INSTANCE_SLEEP_AFTER_IDLE_MS: String(IDLE_MS), RECONCILE_INTERVAL_MS: "200" },
      now: () => Date.now() + offsetMs,
    });
    starts = countStarts(server);
    a = await tenantWithKey(server.url, server.adminToken, "sleepy-a", "starter");
    b = await tenantWithKey(server.url, server.adminToken, "sleepy-b", "starter");
    await Promise.all([
      launchUntilRunning(server.url, server.adminToken, a.tenantId),
      launchUntilRunning(server.url, server.adminToken, b.tenantId),
    ]);
    for (const tenant of [a, b]) {
      const embedded = await api(server.url, "POST", "/embed", {
        token: tenant.key,
        body: { ids: DOCUMENTS.map((_, i) => `doc-${i}`), documents: DOCUMENTS },
      });
      expect(embedded.status).toBe(200);
    }
    const before = await search(server, a.key, "waking up");
    expect(before.status).toBe(200);
    resultsBefore = before.body.results;
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it("sleeps when idle: the process stops, the data stays, and the live status shows it", async () => {
    const recorded = recordStates(server, a.tenantId);
    await idleUntilAsleep(a.tenantId, b.tenantId);
    recorded.stop();
    expect(recorded.states.map((i) => i.state)).toContain("sleeping");
    const status = await statusOf(server, a.tenantId);
    expect(status).toMatchObject({ state: "sleeping", desiredState: "running", url: null });
    // `sleeping` is recorded before the process is stopped (so requests from then on wake it).
    expect(await processGone(server, a.tenantId)).toBe(true);
    expect(existsSync(path.join(server.config.DATA_DIR, "instances", a.tenantId))).toBe(true);
  });

  it("the first search wakes it (waking, then running, live) and answers as before it slept", async () => {
    const live = trpcLiveAs(server.url, server.adminToken);
    // The live view is open (its first event, the current state, arrived) before the search wakes
    // the instance: CI once saw the search's "waking" arrive as the subscription's first event.
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const watching = watchUntil(live, a.tenantId, (i) => {
      opened();
      return i?.state === "running";
    });
    await isOpen;
    const startsBefore = starts.get(a.tenantId) ?? 0;
    const answer = await search(server, a.key, "waking up");
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual(resultsBefore);
    const seen = (await watching).map((i) => i?.state);
    expect(seen[0]).toBe("sleeping");
    expect(seen).toContain("waking");
    expect(seen.at(-1)).toBe("running");
    expect(starts.get(a.tenantId)).toBe(startsBefore + 1);
    // Only the caller's own tenant woke.
    expect((await statusOf(server, b.tenantId)).state).toBe("sleeping");
  });

  it("another tenant's key cannot wake (or reach) a sleeping instance", async () => {
    const refused = await api(server.url, "POST", `/search?tenantId=${b.tenantId}`, {
      token: a.key,
      body: { query: "waking up" },
    });
    expect(refused.status).toBe(403);
    expect((await statusOf(server, b.tenantId)).state).toBe("sleeping");
  });

  it("requests arriving together on every surface share one wake: one process started", async () => {
    await idleUntilAsleep(a.tenantId);
    const recorded = recordStates(server, a.tenantId);
    const startsBefore = starts.get(a.tenantId) ?? 0;
    const chroma = (pathname: string) =>
      fetch(`${server.url}${pathname}`, { headers: { "x-chroma-token": a.key } });
    const answers = await Promise.all([
      search(server, a.key, "waking up"),
      search(server, a.key, "vectors"),
      trpcAs(server.url, server.adminToken).dataPlane.search.query({
        tenantId: a.tenantId,
        request: { query: "data on disk", nResults: 2 },
      }),
      chroma("/api/v2/tenants/default_tenant/databases/default_database/collections"),
      api(server.url, "POST", "/embed", {
        token: a.key,
        body: { ids: ["doc-late"], documents: ["Written while it woke."] },
      }),
    ]);
    recorded.stop();
    const [first, second, viaTrpc, viaChroma, embedded] = answers;
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual(resultsBefore);
    expect(second.status).toBe(200);
    expect(viaTrpc.results.length).toBe(2);
    expect(viaChroma.status).toBe(200);
    const collections = (await viaChroma.json()) as { name: string }[];
    expect(collections.map((c) => c.name)).toContain("default");
    expect(embedded.status).toBe(200);
    expect(starts.get(a.tenantId)).toBe(startsBefore + 1);
    expect(recorded.states.filter((i) => i.state === "waking").length).toBeGreaterThanOrEqual(1);
    expect(new Set(recorded.states.filter((i) => i.url).map((i) => i.url)).size).toBe(1);
  });

  it("a wake that takes longer than the bound answers 503 with a Retry-After, then serves", async () => {
    const before = await search(server, a.key, "waking up");
    await idleUntilAsleep(a.tenantId);
    const { runtime, config } = server.services;
    // Hold the start until the request has been answered: the bound passes whatever the machine's speed.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const start = runtime.start;
    runtime.start = async (spec) => {
      await held;
      return start(spec);
    };
    const bound = config.INSTANCE_WAKE_TIMEOUT_MS;
    config.INSTANCE_WAKE_TIMEOUT_MS = 100;
    try {
      const refused = await search(server, a.key, "waking up");
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe("SERVICE_UNAVAILABLE");
      expect(refused.body.error.message).toMatch(/waking/);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await statusOf(server, a.tenantId)).state).toBe("waking");
    } finally {
      config.INSTANCE_WAKE_TIMEOUT_MS = bound;
      runtime.start = start;
      release();
    }
    const later = await search(server, a.key, "waking up");
    expect(later.status).toBe(200);
    expect(later.body.results).toEqual(before.body.results);
  });

  it("a document added while it sleeps wakes it and is ingested, not failed", async () => {
    await idleUntilAsleep(a.tenantId);
    const created = await api(server.url, "POST", "/docs", {
      token: a.key,
      body: { title: "Late note", text: "A note about hibernating bears written while the instance slept." },
    });
    expect(created.status).toBe(201);
    await watchUntil(trpcLiveAs(server.url, server.adminToken), a.tenantId, (i) => i?.state === "running");
    const live = trpcLiveAs(server.url, a.key);
    const ready = await new Promise<string>((resolve, reject) => {
      const sub = live.documents.onProgress.subscribe(
        { tenantId: a.tenantId, documentId: created.body.id },
        {
          onData: (document) => {
            if (document.status === "ready" || document.status === "failed") {
              sub.unsubscribe();
              resolve(document.status);
            }
          },
          onError: reject,
        },
      );
    });
    expect(ready).toBe("ready");
    const found = await api(server.url, "POST", "/search", {
      token: a.key,
      body: { query: "hibernating bears", mode: "keyword", nResults: 1 },
    });
    expect(found.body.results[0].document).toContain("hibernating bears");
  });

  it("an explicitly stopped instance stays stopped: a request does not wake it", async () => {
    const stopped = await api(server.url, "POST", `/stop/${b.tenantId}`, { token: server.adminToken });
    expect(stopped.status).toBeLessThan(300);
    await watchUntil(trpcLiveAs(server.url, server.adminToken), b.tenantId, (i) => i?.state === "stopped");
    const refused = await search(server, b.key, "waking up");
    expect(refused.status).toBe(409);
    expect((await statusOf(server, b.tenantId)).state).toBe("stopped");
  });

  it("a plan change to the shared tier wakes a sleeping instance for the move, and the records follow", async () => {
    const c = await tenantWithKey(server.url, server.adminToken, "sleepy-c", "starter");
    await launchUntilRunning(server.url, server.adminToken, c.tenantId);
    const embedded = await api(server.url, "POST", "/embed", {
      token: c.key,
      body: { ids: DOCUMENTS.map((_, i) => `doc-${i}`), documents: DOCUMENTS },
    });
    expect(embedded.status).toBe(200);
    await idleUntilAsleep(c.tenantId);

    const changed = await api(server.url, "PATCH", `/tenants/${c.tenantId}`, {
      token: server.adminToken,
      body: { plan: "free" },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const moveId = changed.body.move.id;
    const move = await until(
      "the move to end",
      async () =>
        (await api(server.url, "GET", `/tenants/${c.tenantId}/moves/${moveId}`, { token: server.adminToken }))
          .body,
      (seen) => !["queued", "running"].includes(seen.status),
      { everyMs: 200 },
    );
    expect(move.status, move.lastError ?? "").toBe("succeeded");
    expect(move.progress).toEqual({ done: DOCUMENTS.length, total: DOCUMENTS.length });
    expect(await statusOf(server, c.tenantId)).toMatchObject({ tier: "shared", state: "running" });
    const found = await search(server, c.key, "waking up");
    expect(found.status).toBe(200);
    expect(found.body.results).toHaveLength(3);
  });
});
