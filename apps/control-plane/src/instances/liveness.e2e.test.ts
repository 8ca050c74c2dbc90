import { readFileSync } from "node:fs";
import path from "node:path";
import type { Instance } from "@vdb/schemas/instances";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcLiveAs, watchUntil } from "../testing/http";
import { childPidsOf } from "../testing/process";
import type { ProbeResult } from "./reconciler";

const isRunning = (instance: { state: string } | null) => instance?.state === "running";

async function runningTenant(server: TestServer, slug: string) {
  const tenant = await api(server.url, "POST", "/tenants", {
    token: server.adminToken,
    body: { slug, name: slug, plan: "pro" },
  });
  const tenantId = tenant.body.id as string;
  const key = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
    token: server.adminToken,
    body: { name: "e2e", scopes: ["read", "write"] },
  });
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await watchUntil(trpcLiveAs(server.url, server.adminToken), tenantId, isRunning);
  const embedded = await api(server.url, "POST", "/embed", {
    token: key.body.secret,
    body: { ids: [`${slug}-doc`], documents: [`the document of ${slug}`] },
  });
  expect(embedded.status).toBe(200);
  return { tenantId, key: key.body.secret as string };
}

function pidOf(server: TestServer, tenantId: string): number {
  const file = path.join(server.config.DATA_DIR, "instances", tenantId, "instance.json");
  return JSON.parse(readFileSync(file, "utf8")).pid;
}

/** Resolves with the reconciler's probes of one tenant once `until` holds for one. */
function probesUntil(
  server: TestServer,
  tenantId: string,
  until: (probe: ProbeResult) => boolean,
): Promise<ProbeResult[]> {
  const seen: ProbeResult[] = [];
  return new Promise((resolve) => {
    const listener = (probe: ProbeResult) => {
      if (probe.tenantId !== tenantId) return;
      seen.push(probe);
      if (!until(probe)) return;
      server.services.reconciler.off("probe", listener);
      resolve(seen);
    };
    server.services.reconciler.on("probe", listener);
  });
}

/** Every status the tenant's instance goes through until `stop()` is called. */
function recordStates(server: TestServer, tenantId: string) {
  const states: Instance[] = [];
  const listener = (instance: Instance) => {
    if (instance.tenantId === tenantId) states.push(instance);
  };
  server.services.reconciler.on("change", listener);
  return {
    states,
    stop: () => server.services.reconciler.off("change", listener),
  };
}

async function search(server: TestServer, key: string, query: string) {
  return api(server.url, "POST", "/search", { token: key, body: { query, nResults: 5 } });
}

async function statusOf(server: TestServer, tenantId: string) {
  return (await api(server.url, "GET", `/status/${tenantId}`, { token: server.adminToken })).body;
}

describe("busy is not dead; hung or crashed is restarted", () => {
  let server: TestServer;
  // The reconciler's clock: moved forward instead of waiting out a liveness timeout or a healthy period.
  let offsetMs = 0;
  beforeAll(async () => {
    server = await startTestServer({
      now: () => Date.now() + offsetMs,
      env: {
        // Probed every 200 ms: a probe comes with a sweep, and this file waits on missed ones.
        RECONCILE_INTERVAL_MS: "200",
        INSTANCE_PROBE_TIMEOUT_MS: "300",
        INSTANCE_LIVENESS_FAILURES: "3",
        INSTANCE_LIVENESS_TIMEOUT_MS: "60000",
        INSTANCE_HEALTHY_RESET_MS: "300000",
        // Above every move of the clock below, so no start ever looks timed out.
        INSTANCE_START_TIMEOUT_MS: "3600000",
      },
    });
  });
  afterAll(async () => server?.close());

  it("an instance that answers no health check for a while (busy) stays running; its requests wait and succeed, and other tenants are served meanwhile", async () => {
    const busy = await runningTenant(server, "busy");
    const other = await runningTenant(server, "other");
    const pid = pidOf(server, busy.tenantId);
    const recorded = recordStates(server, busy.tenantId);

    // Stopped, the process is alive but answers nothing: as busy as an instance can be.
    process.kill(pid, "SIGSTOP");
    let waiting: ReturnType<typeof search> | null = null;
    try {
      await probesUntil(server, busy.tenantId, (probe) => probe.outcome === "missed" && probe.missed >= 4);
      expect((await statusOf(server, busy.tenantId)).state).toBe("running");
      waiting = search(server, busy.key, "document");
      const meanwhile = await search(server, other.key, "document");
      expect(meanwhile.status).toBe(200);
      expect(meanwhile.body.results[0].id).toBe("other-doc");
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const answered = await waiting!;
    expect(answered.status).toBe(200);
    expect(answered.body.results[0].id).toBe("busy-doc");
    await probesUntil(server, busy.tenantId, (probe) => probe.outcome === "answered");
    recorded.stop();
    expect(recorded.states.map((instance) => instance.state)).toEqual([]);
    expect(pidOf(server, busy.tenantId)).toBe(pid);
    expect(await statusOf(server, busy.tenantId)).toMatchObject({ state: "running", restartCount: 0 });
  });

  it("an instance silent past the liveness timeout (hung) is killed and started again, with its data", async () => {
    const hung = await runningTenant(server, "hung");
    const pid = pidOf(server, hung.tenantId);
    // Counted from what it is now: a start that went wrong once on a loaded machine must not make
    // the wait below end before the restart it waits for (seen once: it ended at once, pid unchanged).
    const { restartCount } = await statusOf(server, hung.tenantId);
    const recorded = recordStates(server, hung.tenantId);
    process.kill(pid, "SIGSTOP");
    await probesUntil(server, hung.tenantId, (probe) => probe.outcome === "missed" && probe.missed >= 3);
    offsetMs += 60_000;
    await watchUntil(
      trpcLiveAs(server.url, server.adminToken),
      hung.tenantId,
      (instance) => isRunning(instance) && instance?.restartCount === restartCount + 1,
    );
    recorded.stop();
    expect(pidOf(server, hung.tenantId)).not.toBe(pid);
    const failed = recorded.states.find((instance) => instance.state === "failed");
    expect(failed?.lastError).toMatch(/health checks missed/);
    const found = await search(server, hung.key, "document");
    expect(found.body.results[0].id).toBe("hung-doc");
  });

  it("kill -9 of an instance's Chroma: the instance restarts it in place (no restart of its own), with its data", async () => {
    const tenant = await runningTenant(server, "chroma-crash");
    const pid = pidOf(server, tenant.tenantId);
    const [chroma] = childPidsOf(pid);
    expect(chroma).toBeGreaterThan(0);
    process.kill(chroma!, "SIGKILL");
    // Meanwhile a clear 503 (the instance says its store is restarting), never a dead process.
    let found = await search(server, tenant.key, "document");
    while (found.status !== 200) {
      expect(found.status, JSON.stringify(found.body)).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 50));
      found = await search(server, tenant.key, "document");
    }
    expect(found.body.results[0].id).toBe("chroma-crash-doc");
    expect(pidOf(server, tenant.tenantId)).toBe(pid);
    const [newChroma] = childPidsOf(pid);
    expect(newChroma).toBeGreaterThan(0);
    expect(newChroma).not.toBe(chroma);
    expect(await statusOf(server, tenant.tenantId)).toMatchObject({ state: "running", restartCount: 0 });
  });

  it("crash backoff is forgotten after a healthy period: the next crash is restarted at once again", async () => {
    const tenant = await runningTenant(server, "flaky");
    const live = trpcLiveAs(server.url, server.adminToken);
    /** Kills the instance and waits for its restart as the crash numbered `count` in a row. */
    const crash = async (count: number) => {
      const pid = pidOf(server, tenant.tenantId);
      const recorded = recordStates(server, tenant.tenantId);
      process.kill(pid, "SIGKILL");
      await watchUntil(
        live,
        tenant.tenantId,
        (instance) => isRunning(instance) && instance?.restartCount === count,
      );
      recorded.stop();
      expect(pidOf(server, tenant.tenantId)).not.toBe(pid);
      return recorded.states.find((instance) => instance.state === "failed")!;
    };
    expect((await crash(1)).lastError).toBe("the instance process was killed (SIGKILL)");
    await crash(2);
    // Healthy for longer than INSTANCE_HEALTHY_RESET_MS, by the reconciler's clock.
    offsetMs += 300_000;
    const reset = await watchUntil(live, tenant.tenantId, (instance) => instance?.restartCount === 0);
    expect(reset.at(-1)?.state).toBe("running");
    // Counted as a first crash again (restarted without backoff), not as the third.
    await crash(1);
    expect((await search(server, tenant.key, "document")).body.results[0].id).toBe("flaky-doc");
  }, 300_000); // four starts of an instance, on a machine shared by many test runs
});

describe("a stall of the control plane itself is not held against its instances", () => {
  let server: TestServer;
  beforeAll(async () => {
    // As strict as it gets: one missed probe with any silence would count as dead.
    server = await startTestServer({
      env: {
        INSTANCE_PROBE_TIMEOUT_MS: "2000",
        INSTANCE_LIVENESS_FAILURES: "1",
        INSTANCE_LIVENESS_TIMEOUT_MS: "100",
      },
    });
  });
  afterAll(async () => server?.close());

  it("a probe whose timeout fired late because this process was blocked is ignored; the instance stays running", async () => {
    const tenant = await runningTenant(server, "stalled-here");
    const pid = pidOf(server, tenant.tenantId);
    const recorded = recordStates(server, tenant.tenantId);
    const runtime = server.services.runtime;
    const observe = runtime.observe.bind(runtime);
    let blocked = false;
    runtime.observe = (handle, tenantId) => {
      if (blocked || tenantId !== tenant.tenantId) return observe(handle, tenantId);
      blocked = true;
      // The instance is slow to answer this one probe, and meanwhile the control plane's own
      // event loop is blocked (a huge parse, say): the probe's timeout is due before the
      // instance could answer, though this process never waited its timeout for it.
      process.kill(pid, "SIGSTOP");
      const probing = observe(handle, tenantId);
      const until = Date.now() + 4_000;
      while (Date.now() < until) {
        // blocked
      }
      // Silent a moment longer: the probe's overdue timeout, not an answer that beat it to the
      // event loop, is what ends the probe.
      setTimeout(() => process.kill(pid, "SIGCONT"), 500);
      return probing;
    };
    try {
      const seen = await probesUntil(
        server,
        tenant.tenantId,
        (probe) => probe.outcome === "answered" && blocked,
      );
      expect(seen.map((probe) => probe.outcome)).toContain("stalled");
    } finally {
      runtime.observe = observe;
    }
    recorded.stop();
    expect(recorded.states).toEqual([]);
    expect(pidOf(server, tenant.tenantId)).toBe(pid);
    expect((await search(server, tenant.key, "document")).status).toBe(200);
  });
});
