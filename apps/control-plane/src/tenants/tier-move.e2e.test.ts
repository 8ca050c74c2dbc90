import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AuditEntry } from "@vdb/schemas/audit";
import type { Instance } from "@vdb/schemas/instances";
import type { Plan } from "@vdb/schemas/plans";
import type { PlanChange, TierMove } from "@vdb/schemas/tenants";
import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantChroma } from "../backups/tenant-chroma";
import {
  createTestDatabase,
  dropTestDatabase,
  startTestServer,
  type TestServer,
  testStoreKind,
} from "../testing";
import { api, launchUntilRunning, tenantWithKey, until } from "../testing/http";

/**
 * The Chroma server an instance (a tenant's or a pool's) started under `dir`: its port from its
 * config file (a pool's) or its command line (`--path dir --port N`).
 */
function chromaAt(dir: string, namespace: { tenant: string; database: string }): ChromaClient {
  const config = path.join(dir, "chroma-config.yaml");
  let port = existsSync(config) ? Number(/^port: (\d+)$/m.exec(readFileSync(config, "utf8"))?.[1]) : 0;
  for (const pid of port ? [] : readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (args[args.indexOf("--path") + 1] === dir) port = Number(args[args.indexOf("--port") + 1]);
  }
  if (!port) throw new Error(`no chroma process for ${dir}`);
  return new ChromaClient({ host: "127.0.0.1", port, ...namespace });
}

/** Every collection of a namespace with its ids, read straight from Chroma ({}: none, or no namespace). */
async function contents(chroma: ChromaClient): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  const collections = await chroma.listCollections().catch((error: Error) => {
    if (/not found/i.test(error.message)) return [];
    throw error;
  });
  for (const collection of collections) {
    const { ids } = await collection.get({ include: [] });
    found[collection.name] = [...ids].sort();
  }
  return found;
}

/** The move once it has ended (succeeded, failed or given up), polled as the operator. */
function moveEnded(server: TestServer, tenantId: string, moveId: string): Promise<TierMove> {
  return until(
    "the move ended",
    async () =>
      (
        await api<TierMove>(server.url, "GET", `/tenants/${tenantId}/moves/${moveId}`, {
          token: server.adminToken,
        })
      ).body,
    (move) => !["queued", "running"].includes(move.status),
    { everyMs: 200 },
  );
}

/**
 * Plan changes across tiers, end to end: real control plane, real pool and dedicated instances,
 * real Chroma servers, whose namespaces are read straight (not through VDB) before and after.
 */
describe("a plan change moves a tenant between the shared and dedicated tiers", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-tier-move-"));
  let databaseUrl = "";
  let server: TestServer;
  let mover: { tenantId: string; key: string };
  let neighbour: { tenantId: string; key: string };
  let poolId = "";
  let before: Record<string, string[]> = {};
  let neighbourBefore: Record<string, string[]> = {};
  let databaseId = "";
  const queryHandbook = async () => {
    const answer = await api(server.url, "POST", `/database/${databaseId}/query`, {
      token: mover.key,
      body: { query: "hotel night", nResults: 1, mode: "keyword" },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.results.map((hit: { text: string }) => hit.text);
  };

  const admin = () => server.adminToken;
  const status = async (tenantId: string): Promise<Instance> =>
    (await api(server.url, "GET", `/status/${tenantId}`, { token: admin() })).body;
  const chromaDir = (instanceId: string) => path.join(dataDir, "instances", instanceId, "chroma");
  const inPool = (tenantId: string) =>
    chromaAt(chromaDir(poolId), { tenant: tenantId, database: "default_database" });
  const inDedicated = (tenantId: string) =>
    chromaAt(chromaDir(tenantId), { tenant: "default_tenant", database: "default_database" });
  const gateway = (key: string) => {
    const { hostname, port } = new URL(server.url);
    return new ChromaClient({ host: hostname, port: Number(port), headers: { "x-chroma-token": key } });
  };
  const search = (key: string, query: string) =>
    api(server.url, "POST", "/search", { token: key, body: { query, nResults: 50, mode: "keyword" } });
  const changePlan = (tenantId: string, plan: string) =>
    api<PlanChange>(server.url, "PATCH", `/tenants/${tenantId}`, { token: admin(), body: { plan } });

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    server = await startTestServer({ databaseUrl, env: { DATA_DIR: dataDir, POOL_TENANTS_MAX: "2" } });
    mover = await tenantWithKey(server.url, admin(), "mover", "free");
    neighbour = await tenantWithKey(server.url, admin(), "neighbour", "free");
    for (const { tenantId } of [mover, neighbour]) await launchUntilRunning(server.url, admin(), tenantId);
    poolId = (await status(mover.tenantId)).poolId!;
    expect((await status(neighbour.tenantId)).poolId).toBe(poolId);

    // Records in two collections: documents embedded by the instance, and vectors via the gateway.
    for (const [i, { key }] of [mover, neighbour].entries()) {
      const ids = Array.from({ length: 12 }, (_, n) => `rec-${n}`);
      const res = await api(server.url, "POST", "/embed", {
        token: key,
        body: { ids, documents: ids.map((id) => `lighthouse keeper ${id} of tenant${i}`) },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const notes = await gateway(mover.key).getOrCreateCollection({ name: "notes", embeddingFunction: null });
    await notes.add({
      ids: Array.from({ length: 30 }, (_, n) => `note-${n}`),
      embeddings: Array.from({ length: 30 }, (_, n) =>
        Array.from({ length: 64 }, (_, d) => ((n + d) % 7) / 7),
      ),
      documents: Array.from({ length: 30 }, (_, n) => `note ${n}`),
      metadatas: Array.from({ length: 30 }, (_, n) => ({ n })),
    });
    // A named database (its own model and dimension) is a collection of the namespace too.
    const database = await api(server.url, "POST", "/databases", {
      token: mover.key,
      body: { name: "handbook", model: "hash", dimension: 32 },
    });
    expect(database.status, JSON.stringify(database.body)).toBe(201);
    databaseId = database.body.id;
    const handbook = await api(server.url, "POST", "/embed", {
      token: mover.key,
      body: {
        collection: "handbook",
        ids: ["hotel", "garden"],
        documents: ["a hotel night is reimbursed", "water the tomatoes at dawn"],
      },
    });
    expect(handbook.status, JSON.stringify(handbook.body)).toBe(200);
    before = await contents(inPool(mover.tenantId));
    neighbourBefore = await contents(inPool(neighbour.tenantId));
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("free → pro: copies every record to a new dedicated instance, refuses writes meanwhile, and empties the pool namespace", async () => {
    expect(Object.keys(before).sort()).toEqual(["default", "handbook", "notes"]);
    expect(before.default).toHaveLength(12);
    expect(before.notes).toHaveLength(30);

    // A client holding an instance token writes to the pool directly, around the plan change.
    const minted = await api(server.url, "POST", "/generate-token", {
      token: mover.key,
      body: { tenantId: mover.tenantId, scopes: ["write"] },
    });
    expect(minted.status, JSON.stringify(minted.body)).toBe(200);
    let direct = 0;
    const writeDirectly = async () => {
      const id = `direct-${direct++}`;
      const res = await fetch(`${minted.body.instanceUrl}/embed`, {
        method: "POST",
        headers: { authorization: `Bearer ${minted.body.token}`, "content-type": "application/json" },
        body: JSON.stringify({
          ids: [id],
          documents: [`lighthouse keeper ${id}, written straight to the pool`],
        }),
      });
      return { id, res };
    };
    const beforeChange = await writeDirectly();
    expect(beforeChange.res.status).toBe(200);
    const acceptedDirectly = [beforeChange.id];
    before.default = [...before.default!, beforeChange.id].sort();

    const changed = await changePlan(mover.tenantId, "pro");
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.plan).toBe("pro");
    // Until the instance learns of the pause (it reads it at most REVOCATION_REFRESH_MS old for a
    // write), a direct write lands before the move copies; from then on it is refused. None is lost.
    for (let attempt = 1; ; attempt++) {
      const { id, res } = await writeDirectly();
      // The move itself takes a few seconds: far fewer attempts than this.
      if (attempt > 400) throw new Error("no direct write was refused while the tenant moved");
      if (res.status === 200) {
        acceptedDirectly.push(id);
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBeTruthy();
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
        "moving between tiers",
      );
      break;
    }
    before.default = [...new Set([...before.default!, ...acceptedDirectly])].sort();
    expect(changed.body.move).toMatchObject({ fromTier: "shared", toTier: "dedicated", fromPlan: "free" });
    const moveId = changed.body.move!.id;

    // While it moves: writes are refused with a Retry-After, reads answer from the pool.
    const write = await api(server.url, "POST", "/embed", {
      token: mover.key,
      body: { ids: ["late"], documents: ["written during the move"] },
    });
    expect(write.status).toBe(503);
    expect(write.headers.get("retry-after")).toBeTruthy();
    expect(write.body.error.message).toContain("moving to the dedicated tier");
    const read = await search(mover.key, "lighthouse");
    expect(read.status).toBe(200);
    expect(read.body.results).toHaveLength(before.default!.length);
    // Nothing pulls the ground from under the move: stopping or deleting its instance, or the
    // tenant, waits for it (the move's SETTLE_MS alone keeps it under way this long).
    for (const [method, route] of [
      ["POST", `/tenants/${mover.tenantId}/instance/stop`],
      ["DELETE", `/tenants/${mover.tenantId}/instance`],
      ["DELETE", `/tenants/${mover.tenantId}`],
    ] as const) {
      const refused = await api(server.url, method, route, { token: admin() });
      expect(refused.status, route).toBe(409);
      expect(refused.body.error.message).toContain("moving from the shared to the dedicated tier");
    }

    // Another tenant's key reads no move of this one's, under either tenant's path.
    for (const tenantId of [mover.tenantId, neighbour.tenantId]) {
      const probe = await api(server.url, "GET", `/tenants/${tenantId}/moves/${moveId}`, {
        token: neighbour.key,
      });
      expect(probe.status, tenantId).toBe(tenantId === mover.tenantId ? 403 : 404);
    }

    const move = await moveEnded(server, mover.tenantId, moveId);
    expect(move.status, move.lastError ?? "").toBe("succeeded");
    const records = 32 + before.default!.length;
    expect(move.progress).toEqual({ done: records, total: records });
    expect(await status(mover.tenantId)).toMatchObject({ tier: "dedicated", poolId: null, state: "running" });

    // Straight in Chroma: the dedicated namespace holds exactly what the pool held; the pool's is empty.
    expect(await contents(inDedicated(mover.tenantId))).toEqual(before);
    expect(await contents(inPool(mover.tenantId))).toEqual({});
    expect(await contents(inPool(neighbour.tenantId))).toEqual(neighbourBefore);

    // Searches (keyword index on the new instance) and writes work there.
    const found = await search(mover.key, "lighthouse");
    expect(found.status).toBe(200);
    expect(found.body.results.map((hit: { id: string }) => hit.id).sort()).toEqual(before.default);
    const after = await api(server.url, "POST", "/embed", {
      token: mover.key,
      body: { ids: ["late"], documents: ["written after the move"] },
    });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    const theirs = await search(neighbour.key, "lighthouse");
    expect(theirs.body.results).toHaveLength(12);

    const audit = await api<{ items: AuditEntry[] }>(server.url, "GET", `/audit?tenantId=${mover.tenantId}`, {
      token: admin(),
    });
    expect(audit.body.items.find((entry) => entry.action === "tenant.move")?.metadata).toMatchObject({
      moveId,
      from: "shared",
      to: "dedicated",
      records,
    });
    // The writes' pause, from the plan change to the switch, is recorded with the move.
    const switched = audit.body.items.find((entry) => entry.action === "tenant.move");
    expect(switched?.metadata?.pausedMs).toBeGreaterThan(0);
    expect(await queryHandbook()).toEqual(["a hotel night is reimbursed"]);
  }, 180_000);

  it("pro → free over the Free plan's limits is refused before anything changes", async () => {
    const client = gateway(mover.key);
    for (const name of ["extra-a", "extra-b", "extra-c"])
      await client.getOrCreateCollection({ name, embeddingFunction: null });
    const refused = await changePlan(mover.tenantId, "free");
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: "QUOTA_EXCEEDED" } });
    expect((refused.body as unknown as { error: { message: string } }).error.message).toContain(
      "6 collections",
    );
    const tenant = await api(server.url, "GET", `/tenants/${mover.tenantId}`, { token: admin() });
    expect(tenant.body.plan).toBe("pro");
    expect(await status(mover.tenantId)).toMatchObject({ tier: "dedicated", state: "running" });
    for (const name of ["extra-a", "extra-b", "extra-c"]) await client.deleteCollection({ name });
  }, 60_000);

  it("pro → free: copies every record into a pool namespace and deletes the dedicated instance", async () => {
    const dedicatedBefore = await contents(inDedicated(mover.tenantId));
    expect(dedicatedBefore.default).toContain("late");
    const changed = await changePlan(mover.tenantId, "free");
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    // The plan applies at the switch: until then the tenant stays on its dedicated instance.
    expect(changed.body.plan).toBe("pro");
    expect(changed.body.move).toMatchObject({ fromTier: "dedicated", toTier: "shared", toPlan: "free" });
    const write = await api(server.url, "POST", "/embed", {
      token: mover.key,
      body: { ids: ["later"], documents: ["refused"] },
    });
    expect(write.status).toBe(503);
    expect(write.body.error.message).toContain("moving to the shared tier");
    // The pool's last place (2 per pool here: the neighbour and the mover) is the mover's from the
    // plan change on: a tenant launched meanwhile gets another pool.
    const latecomer = await tenantWithKey(server.url, admin(), "latecomer", "free");
    const launched = await api<Instance>(server.url, "POST", "/launch", {
      token: admin(),
      body: { tenantId: latecomer.tenantId },
    });
    expect(launched.status, JSON.stringify(launched.body)).toBeLessThan(300);
    expect(launched.body.poolId).toBeTruthy();
    expect(launched.body.poolId).not.toBe(poolId);

    const move = await moveEnded(server, mover.tenantId, changed.body.move!.id);
    expect(move.status, move.lastError ?? "").toBe("succeeded");
    const now = await status(mover.tenantId);
    expect(now).toMatchObject({ tier: "shared", poolId, state: "running" });
    expect((await api(server.url, "GET", `/tenants/${mover.tenantId}`, { token: admin() })).body.plan).toBe(
      "free",
    );
    expect(await contents(inPool(mover.tenantId))).toEqual(dedicatedBefore);
    expect(await contents(inPool(neighbour.tenantId))).toEqual(neighbourBefore);
    // The dedicated instance and its data are deleted.
    await until(
      "the dedicated instance's data is gone",
      async () => existsSync(path.join(dataDir, "instances", mover.tenantId)),
      (exists) => !exists,
      { everyMs: 200 },
    );
    expect(await queryHandbook()).toEqual(["a hotel night is reimbursed"]);
    const found = await search(mover.key, "lighthouse move");
    expect(found.status).toBe(200);
    expect(found.body.results.map((hit: { id: string }) => hit.id).sort()).toEqual(dedicatedBefore.default);
  }, 180_000);
});

// On PGlite alone: a rollback takes the same statements on both stores; the lock a move holds
// against writes meanwhile, which differs, is tested above on both.
describe.runIf(testStoreKind() === "pglite")("a tier move that cannot finish", () => {
  let databaseUrl = "";
  let server: TestServer;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    // Retries from 100 ms, doubling (not from 1 s): a copy that keeps failing uses its 5 attempts in
    // about 1.5 s, not 15.
    server = await startTestServer({
      databaseUrl,
      env: { TIER_MOVE_WAIT_MS: "3000", JOB_RETRY_BASE_MS: "100" },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  /** A launched tenant on `plan` with three records whose text holds `word`. */
  async function tenantWithRecords(slug: string, plan: Plan, word: string) {
    const tenant = await tenantWithKey(server.url, server.adminToken, slug, plan);
    await launchUntilRunning(server.url, server.adminToken, tenant.tenantId);
    const ids = ["a", "b", "c"];
    const embedded = await api(server.url, "POST", "/embed", {
      token: tenant.key,
      body: { ids, documents: ids.map((id) => `${word} record ${id}`) },
    });
    expect(embedded.status).toBe(200);
    return { ...tenant, ids };
  }

  /**
   * After a rolled-back move: the tenant keeps `plan` and is served where `instance` says, its
   * records found and a new one written there, and the failure audited.
   */
  async function expectRolledBack(
    tenant: { tenantId: string; key: string; ids: string[] },
    word: string,
    plan: string,
    instance: Partial<Instance>,
  ) {
    const admin = server.adminToken;
    expect((await api(server.url, "GET", `/tenants/${tenant.tenantId}`, { token: admin })).body.plan).toBe(
      plan,
    );
    expect(
      (await api<Instance>(server.url, "GET", `/status/${tenant.tenantId}`, { token: admin })).body,
    ).toMatchObject(instance);
    const found = await api(server.url, "POST", "/search", {
      token: tenant.key,
      body: { query: word, nResults: 10, mode: "keyword" },
    });
    expect(found.body.results.map((hit: { id: string }) => hit.id).sort()).toEqual(tenant.ids);
    const write = await api(server.url, "POST", "/embed", {
      token: tenant.key,
      body: { ids: ["d"], documents: [`${word} record d`] },
    });
    expect(write.status, JSON.stringify(write.body)).toBe(200);
    const audit = await api<{ items: AuditEntry[] }>(
      server.url,
      "GET",
      `/audit?tenantId=${tenant.tenantId}`,
      {
        token: admin,
      },
    );
    expect(audit.body.items.map((entry) => entry.action)).toContain("tenant.move_failed");
  }

  it("is rolled back when its dedicated instance never runs: the tenant stays in its pool with its records and plan, and writes again", async () => {
    const admin = server.adminToken;
    const tenant = await tenantWithRecords("stuck", "free", "harbour");
    // The tenant's own instance cannot start here (no room on the machine, say).
    const { runtime } = server.services;
    const start = runtime.start.bind(runtime);
    runtime.start = (spec) =>
      spec.tenantId === tenant.tenantId ? Promise.reject(new Error("no room for it")) : start(spec);

    const changed = await api<PlanChange>(server.url, "PATCH", `/tenants/${tenant.tenantId}`, {
      token: admin,
      body: { plan: "pro" },
    });
    expect(changed.status).toBe(200);
    const move = await moveEnded(server, tenant.tenantId, changed.body.move!.id);
    expect(move.status).toBe("failed");
    expect(move.lastError).toContain("waited");
    await expectRolledBack(tenant, "harbour", "free", { tier: "shared", state: "running" });
  }, 120_000);

  it("is rolled back when its copy keeps failing: the tenant stays on its dedicated instance with its plan and records, and the pool keeps nothing of it", async () => {
    const admin = server.adminToken;
    const tenant = await tenantWithRecords("copy-fails", "pro", "lantern");
    // Every page the move writes into the pool is refused (a fault injected for this tenant only):
    // each of its 5 attempts creates the collection there, then fails.
    const upsert = TenantChroma.prototype.upsert;
    TenantChroma.prototype.upsert = function (this: TenantChroma, ...args: Parameters<typeof upsert>) {
      if (this.tenantId === tenant.tenantId)
        return Promise.reject(new Error("the pool refused the page (injected)"));
      return upsert.apply(this, args);
    };
    try {
      const changed = await api<PlanChange>(server.url, "PATCH", `/tenants/${tenant.tenantId}`, {
        token: admin,
        body: { plan: "free" },
      });
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      const move = await moveEnded(server, tenant.tenantId, changed.body.move!.id);
      expect(move.status).not.toBe("succeeded");
      expect(move.lastError).toContain("injected");
    } finally {
      TenantChroma.prototype.upsert = upsert;
    }

    await expectRolledBack(tenant, "lantern", "pro", { tier: "dedicated", poolId: null, state: "running" });
    // Straight in the pool's Chroma: the collections the attempts made there are gone.
    const pools = (await server.services.db.query.instances.findMany()).filter((row) => row.kind === "pool");
    expect(pools.length).toBeGreaterThan(0);
    for (const pool of pools) {
      const chroma = chromaAt(path.join(server.config.DATA_DIR, "instances", pool.tenantId, "chroma"), {
        tenant: tenant.tenantId,
        database: "default_database",
      });
      expect(await contents(chroma)).toEqual({});
    }
  }, 240_000);
});
