import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isPidAlive } from "@vdb/http/processes";
import { PLANS, type Plan } from "@vdb/schemas/plans";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  dropTestDatabase,
  startTestServer,
  type TestServer,
  testStoreKind,
} from "../testing";
import { api, trpcLiveAs, until, watchUntil } from "../testing/http";
import { freePort } from "../testing/process";

const isRunning = (instance: { state: string } | null) => instance?.state === "running";

async function tenantWithKey(server: TestServer, slug: string, plan: Plan = "pro") {
  const tenant = await api(server.url, "POST", "/tenants", {
    token: server.adminToken,
    body: { slug, name: slug, plan },
  });
  const key = await api(server.url, "POST", `/tenants/${tenant.body.id}/keys`, {
    token: server.adminToken,
    body: { name: "e2e", scopes: ["read", "write"] },
  });
  return { tenantId: tenant.body.id as string, key: key.body.secret as string };
}

function pidOf(server: TestServer, tenantId: string): number {
  const file = path.join(server.config.DATA_DIR, "instances", tenantId, "instance.json");
  return JSON.parse(readFileSync(file, "utf8")).pid;
}

// On PGlite alone: what differs between the two stores here is what a restart finds (below).
describe.runIf(testStoreKind() === "pglite")("a tenant's instance, end to end", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it("launch → embed 1,000 → filtered search → delete → stop → start (data kept) → delete (data gone)", async () => {
    const { tenantId, key } = await tenantWithKey(server, "e2e-life");
    const live = trpcLiveAs(server.url, server.adminToken);

    const launched = await api(server.url, "POST", `/tenants/${tenantId}/instance/launch`, {
      token: server.adminToken,
      body: {},
    });
    expect(launched.status).toBe(200);
    expect(launched.body).toMatchObject({ desiredState: "running", model: "hash", dimension: 64 });
    const states = await watchUntil(live, tenantId, isRunning);
    expect(states.map((s) => s?.state)).toContain("running");
    expect(states.at(-1)?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const ids = Array.from({ length: 1_000 }, (_, i) => `doc-${i}`);
    const embed = await api(server.url, "POST", "/embed", {
      token: key,
      body: {
        ids,
        documents: ids.map((id, i) => `document ${id} about topic ${i % 10}`),
        metadatas: ids.map((_, i) => ({ group: i % 10, even: i % 2 === 0 })),
      },
    });
    expect(embed.status).toBe(200);
    expect(embed.body).toMatchObject({ upserted: 1_000, count: 1_000, dimension: 64 });

    const search = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "topic 3", nResults: 200, where: { $and: [{ group: 3 }, { even: false }] } },
    });
    expect(search.status).toBe(200);
    expect(search.body.results).toHaveLength(100);
    for (const hit of search.body.results) expect(hit.metadata).toMatchObject({ group: 3, even: false });

    const deleted = await api(server.url, "POST", "/delete", { token: key, body: { where: { group: 3 } } });
    expect(deleted.body).toMatchObject({ deleted: 100, count: 900 });

    await api(server.url, "POST", `/tenants/${tenantId}/instance/stop`, { token: server.adminToken });
    await watchUntil(live, tenantId, (instance) => instance?.state === "stopped");
    const whileStopped = await api(server.url, "POST", "/search", { token: key, body: { query: "topic 4" } });
    expect(whileStopped.status).toBe(409);
    expect(whileStopped.body.error.code).toBe("CONFLICT");

    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
    await watchUntil(live, tenantId, isRunning);
    const afterRestart = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "topic 4", nResults: 1_000, where: { group: 4 } },
    });
    expect({ status: afterRestart.status, error: afterRestart.body.error }).toEqual({
      status: 200,
      error: undefined,
    });
    expect(afterRestart.body.results).toHaveLength(100);
    const gone3 = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "x", where: { group: 3 } },
    });
    expect(gone3.body.results).toHaveLength(0);

    const dataDir = path.join(server.config.DATA_DIR, "instances", tenantId);
    expect(existsSync(dataDir)).toBe(true);
    await api(server.url, "DELETE", `/delete/${tenantId}`, { token: server.adminToken });
    await watchUntil(live, tenantId, (instance) => instance === null);
    expect(existsSync(dataDir)).toBe(false);
    expect((await api(server.url, "GET", `/status/${tenantId}`, { token: server.adminToken })).status).toBe(
      404,
    );
  });

  it("kill -9 of an instance: the reconciler brings it back, with its data", async () => {
    const { tenantId, key } = await tenantWithKey(server, "e2e-crash");
    const live = trpcLiveAs(server.url, server.adminToken);
    await api(server.url, "POST", "/launch-instance", { token: server.adminToken, body: { tenantId } });
    await watchUntil(live, tenantId, isRunning);
    await api(server.url, "POST", "/embed", {
      token: key,
      body: { ids: ["a", "b"], documents: ["alpha", "beta"] },
    });

    const pid = pidOf(server, tenantId);
    // Killed once the status stream is open: a quick restart can be over before a stream opened
    // after the kill says anything (it then shows only the new process running).
    const states = await watchUntil(
      live,
      tenantId,
      (instance) => isRunning(instance) && pidOf(server, tenantId) !== pid,
      { onFirst: () => process.kill(pid, "SIGKILL") },
    );
    expect(states.map((s) => s?.state)).toContain("failed");
    expect(states.at(-1)?.restartCount).toBeGreaterThanOrEqual(1);
    const search = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "alpha", nResults: 5 },
    });
    expect(search.body.results.map((hit: { id: string }) => hit.id).sort()).toEqual(["a", "b"]);
  });

  it("a plan change reaches the running instance: it restarts with the new record limit and keeps its data", async () => {
    const starterMax = PLANS.starter.maxRecords;
    const { tenantId, key } = await tenantWithKey(server, "e2e-plan", "starter");
    const live = trpcLiveAs(server.url, server.adminToken);
    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
    await watchUntil(live, tenantId, isRunning);

    // Fill the starter plan's MAX_DOCS, in batches the starter rate limit lets through.
    for (let start = 0; start < starterMax; start += 1_000) {
      const ids = Array.from({ length: 1_000 }, (_, i) => `doc-${start + i}`);
      const filled = await api(server.url, "POST", "/embed", {
        token: key,
        body: { ids, documents: ids.map((id) => `text of ${id}`) },
      });
      expect(filled.status).toBe(200);
    }
    const embedOne = (id: string) =>
      api(server.url, "POST", "/embed", { token: key, body: { ids: [id], documents: [`text of ${id}`] } });
    const refused = await embedOne("one-more");
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("QUOTA_EXCEEDED");

    const pid = pidOf(server, tenantId);
    // The status stream shows the restart; the new process runs the pro plan. Watched from before
    // the change: a quick restart can be over before a stream opened after it says anything.
    let watching!: () => void;
    const isWatching = new Promise<void>((resolve) => {
      watching = resolve;
    });
    const restarted = watchUntil(
      live,
      tenantId,
      (instance) => isRunning(instance) && pidOf(server, tenantId) !== pid,
      { onFirst: () => watching() },
    );
    await isWatching;
    const upgrade = await api(server.url, "PATCH", `/tenants/${tenantId}`, {
      token: server.adminToken,
      body: { plan: "pro" },
    });
    expect(upgrade.status).toBe(200);
    const states = await restarted;
    expect(states.map((s) => s?.state)).toContain("stopping");
    expect(states.at(-1)?.restartCount).toBe(0); // a planned restart is not a crash
    const { body: grant } = await api(server.url, "POST", "/generate-token", {
      token: server.adminToken,
      body: { tenantId },
    });
    const health = await fetch(`${states.at(-1)?.url}/healthz`, {
      headers: { authorization: `Bearer ${grant.token}` },
    }).then((r) => r.json());
    expect(health).toMatchObject({ plan: "pro", maxDocs: PLANS.pro.maxRecords });

    const accepted = await embedOne("one-more");
    expect(accepted.status).toBe(200);
    expect(accepted.body.count).toBe(starterMax + 1);

    // Back to starter while holding more than it allows: nothing is lost, the next write is refused.
    const secondPid = pidOf(server, tenantId);
    await api(server.url, "PATCH", `/tenants/${tenantId}`, {
      token: server.adminToken,
      body: { plan: "starter" },
    });
    await watchUntil(
      live,
      tenantId,
      (instance) => isRunning(instance) && pidOf(server, tenantId) !== secondPid,
    );
    const overLimit = await embedOne("yet-another");
    expect(overLimit.body.error?.code).toBe("QUOTA_EXCEEDED");
    const kept = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "text of one-more", nResults: 1 },
    });
    expect(kept.body.results.map((hit: { id: string }) => hit.id)).toEqual(["one-more"]);
  });

  it("one instance's slow stop holds up no other: a launch meanwhile runs at once", async () => {
    const slow = await tenantWithKey(server, "e2e-slow-stop");
    const quick = await tenantWithKey(server, "e2e-quick-launch");
    const live = trpcLiveAs(server.url, server.adminToken);
    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId: slow.tenantId } });
    await watchUntil(live, slow.tenantId, isRunning);

    // The slow tenant's stop takes 20 s here (an ECS task draining, say).
    const runtime = server.services.runtime;
    const realStop = runtime.stop.bind(runtime);
    let releaseSlowStop = () => {};
    const slowStopHeld = new Promise<void>((resolve) => {
      releaseSlowStop = resolve;
      setTimeout(resolve, 20_000);
    });
    runtime.stop = async (handle) => {
      if (handle.ref === String(pidOf(server, slow.tenantId))) await slowStopHeld;
      return realStop(handle);
    };
    try {
      await api(server.url, "POST", `/tenants/${slow.tenantId}/instance/stop`, { token: server.adminToken });
      await watchUntil(live, slow.tenantId, (instance) => instance?.state === "stopping");
      await api(server.url, "POST", "/launch", {
        token: server.adminToken,
        body: { tenantId: quick.tenantId },
      });
      await watchUntil(live, quick.tenantId, isRunning);
      const slowNow = await api(server.url, "GET", `/status/${slow.tenantId}`, { token: server.adminToken });
      expect(slowNow.body.state).toBe("stopping");
      const embedded = await api(server.url, "POST", "/embed", {
        token: quick.key,
        body: { ids: ["q"], documents: ["launched while another instance was stopping"] },
      });
      expect(embedded.status).toBe(200);
    } finally {
      releaseSlowStop();
      runtime.stop = realStop;
    }
    await watchUntil(live, slow.tenantId, (instance) => instance?.state === "stopped");
  });

  it("deleting a tenant stops its running instance and removes its data (no orphan left)", async () => {
    const { tenantId } = await tenantWithKey(server, "e2e-orphan");
    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
    await watchUntil(trpcLiveAs(server.url, server.adminToken), tenantId, isRunning);
    const pid = pidOf(server, tenantId);
    const dataDir = path.join(server.config.DATA_DIR, "instances", tenantId);

    expect(
      (await api(server.url, "DELETE", `/tenants/${tenantId}`, { token: server.adminToken })).status,
    ).toBe(200);
    await until(
      "the instance's process and data to be gone",
      async () => ({ alive: isPidAlive(pid), data: existsSync(dataDir) }),
      (seen) => !seen.alive && !seen.data,
      { timeoutMs: 20_000, everyMs: 100 },
    );
    expect(isPidAlive(pid)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    expect((await server.services.runtime.list()).map((handle) => handle.tenantId)).not.toContain(tenantId);
  });

  it("bad data-plane input is refused before the instance is reached, or relayed from it, and nothing is written", async () => {
    const { tenantId, key } = await tenantWithKey(server, "e2e-bad");
    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
    await watchUntil(trpcLiveAs(server.url, server.adminToken), tenantId, isRunning);
    await api(server.url, "POST", "/embed", { token: key, body: { ids: ["ok"], documents: ["fine"] } });
    const bad: [unknown, number, string][] = [
      [{ ids: ["a", "a"], documents: ["x", "y"] }, 400, "VALIDATION_FAILED"],
      [{ ids: [""], documents: ["x"] }, 400, "VALIDATION_FAILED"],
      [{ ids: ["a"], documents: ["x"], collection: "no" }, 400, "VALIDATION_FAILED"],
      [{ ids: ["a"], embeddings: [[1, 2, 3]] }, 400, "BAD_REQUEST"], // 3-d into a 64-d collection: the instance's answer
      [{ ids: Array.from({ length: 10_001 }, (_, i) => `i${i}`), documents: [] }, 400, "VALIDATION_FAILED"],
    ];
    for (const [body, status, code] of bad) {
      const res = await api(server.url, "POST", "/embed", { token: key, body });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.requestId).toMatch(/^req_/);
    }
    const filter = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "x", where: { n: { $foo: 1 } } },
    });
    expect(filter.status).toBe(400);
    const all = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "fine", nResults: 50 },
    });
    expect(all.body.results.map((hit: { id: string }) => hit.id)).toEqual(["ok"]);
  });

  it("isolation: tenant A's key reaches neither tenant B's data plane nor B's instance directly", async () => {
    const a = await tenantWithKey(server, "iso-a");
    const b = await tenantWithKey(server, "iso-b");
    const live = trpcLiveAs(server.url, server.adminToken);
    for (const tenant of [a, b]) {
      await api(server.url, "POST", "/launch", {
        token: server.adminToken,
        body: { tenantId: tenant.tenantId },
      });
    }
    await watchUntil(live, a.tenantId, isRunning);
    const running = await watchUntil(live, b.tenantId, isRunning);
    await api(server.url, "POST", "/embed", {
      token: b.key,
      body: { ids: ["secret"], documents: ["b's secret"] },
    });

    const viaQuery = await api(server.url, "POST", `/search?tenantId=${b.tenantId}`, {
      token: a.key,
      body: { query: "secret" },
    });
    expect(viaQuery.status).toBe(403);
    const write = await api(server.url, "POST", `/embed?tenantId=${b.tenantId}`, {
      token: a.key,
      body: { ids: ["x"], documents: ["planted"] },
    });
    expect(write.status).toBe(403);

    // Direct access: a token for A does not open B's instance (wrong audience), nor does A's API key.
    const tokenA = await api(server.url, "POST", "/generate-token", {
      token: a.key,
      body: { tenantId: a.tenantId },
    });
    expect(tokenA.body.instanceUrl).toMatch(/^http:/);
    const bUrl = running.at(-1)!.url!;
    for (const credential of [tokenA.body.token, a.key]) {
      const direct = await fetch(`${bUrl}/search`, {
        method: "POST",
        headers: { authorization: `Bearer ${credential}`, "content-type": "application/json" },
        body: JSON.stringify({ query: "secret" }),
      });
      expect(direct.status).toBe(401);
    }
    // The runtime never mistakes another tenant's instance for this one's (a reused port).
    const aHandle = { ref: String(pidOf(server, a.tenantId)), url: bUrl };
    expect((await server.services.runtime.observe(aHandle, a.tenantId)).state).toBe("unresponsive");
    expect(
      (await server.services.runtime.observe({ ...aHandle, url: tokenA.body.instanceUrl }, a.tenantId)).state,
    ).toBe("running");

    // A's own token works on A's own instance (the seed 001 flow).
    await api(server.url, "POST", "/embed", {
      token: a.key,
      body: { ids: ["mine"], documents: ["a's own"] },
    });
    const own = await fetch(`${tokenA.body.instanceUrl}/search`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokenA.body.token}`, "content-type": "application/json" },
      body: JSON.stringify({ query: "anything" }),
    });
    expect(own.status).toBe(200);
    const bCount = await api(server.url, "POST", "/search", {
      token: b.key,
      body: { query: "planted", nResults: 10 },
    });
    expect(bCount.body.results.map((hit: { id: string }) => hit.id)).toEqual(["secret"]);
  });
});

describe("control-plane restart", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-restart-"));
  let databaseUrl: string;
  beforeAll(async () => {
    // PGlite on disk survives the restart; PostgreSQL gets a fresh database.
    databaseUrl = await createTestDatabase();
  });
  afterAll(async () => {
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  // Same URL across restarts, as a real restart: adopted instances fetch the JWKS from it.
  let env: Record<string, string>;
  let tenant: { tenantId: string; key: string };

  it("re-adopts running instances: none duplicated, none leaked", async () => {
    env = { DATA_DIR: dataDir, STOP_INSTANCES_ON_EXIT: "false", PORT: String(await freePort()) };
    const first = await startTestServer({ databaseUrl, env });
    tenant = await tenantWithKey(first, "restart");
    const { tenantId, key } = tenant;
    await api(first.url, "POST", "/launch", { token: first.adminToken, body: { tenantId } });
    await watchUntil(trpcLiveAs(first.url, first.adminToken), tenantId, isRunning);
    await api(first.url, "POST", "/embed", {
      token: key,
      body: { ids: ["kept"], documents: ["survives restarts"] },
    });
    const pid = pidOf(first, tenantId);
    await first.close();
    expect(isPidAlive(pid)).toBe(true);

    const second = await startTestServer({ databaseUrl, env: { ...env, STOP_INSTANCES_ON_EXIT: "true" } });
    try {
      await second.services.reconciler.pass();
      const status = await api(second.url, "GET", `/status/${tenantId}`, { token: second.adminToken });
      expect(status.body.state).toBe("running");
      expect(pidOf(second, tenantId)).toBe(pid);
      const live = await second.services.runtime.list();
      expect(live.filter((handle) => handle.tenantId === tenantId)).toHaveLength(1);
      const search = await api(second.url, "POST", "/search", { token: key, body: { query: "survives" } });
      expect(search.body.results[0].id).toBe("kept");
    } finally {
      await second.close();
    }
    expect(isPidAlive(pid)).toBe(false); // stopped (a zombie not yet reaped by this process counts as stopped)
  });

  it("an instance the platform stopped (Ctrl-C) starts again with the next control plane, not as a crash", async () => {
    const { tenantId, key } = tenant;
    const third = await startTestServer({ databaseUrl, env });
    try {
      const states = await watchUntil(trpcLiveAs(third.url, third.adminToken), tenantId, isRunning);
      expect(states.map((instance) => instance?.state)).not.toContain("failed");
      const status = await api(third.url, "GET", `/status/${tenantId}`, { token: third.adminToken });
      expect(status.body).toMatchObject({ state: "running", restartCount: 0, lastError: null });
      const search = await api(third.url, "POST", "/search", { token: key, body: { query: "survives" } });
      expect(search.body.results[0].id).toBe("kept");
    } finally {
      await third.close({ stopInstances: true });
    }
  });
});
