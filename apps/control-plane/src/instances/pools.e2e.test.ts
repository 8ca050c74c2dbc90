import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Instance } from "@vdb/schemas/instances";
import { ChromaClient } from "chromadb";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileIngestions } from "../documents/reconcile-ingestions";
import { documents } from "../lib/db/schema";
import { createTestDatabase, dropTestDatabase, startTestServer, type TestServer } from "../testing";
import { api, launchUntilRunning, tenantWithKey, until } from "../testing/http";

/**
 * The shared tier through the control plane: free-plan tenants are placed in pool instances
 * (real processes, POOL_TENANTS_MAX of them per pool), reach only their own namespace from every
 * surface, and their pools are re-adopted by a restarted control plane.
 */
describe("shared-tier tenants live in pools", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-pools-"));
  let databaseUrl = "";
  let server: TestServer;
  const tenants: { tenantId: string; key: string }[] = [];
  let dedicated: { tenantId: string; key: string };
  const starts: string[] = [];

  const start = async () => {
    server = await startTestServer({
      databaseUrl,
      env: { DATA_DIR: dataDir, POOL_TENANTS_MAX: "2", ...(port ? { PORT: port } : {}) },
    });
    port = new URL(server.url).port;
    const { runtime } = server.services;
    const startInstance = runtime.start.bind(runtime);
    runtime.start = (spec) => {
      starts.push(spec.tenantId);
      return startInstance(spec);
    };
  };
  let port = "";

  const status = async (tenantId: string): Promise<Instance> =>
    (await api(server.url, "GET", `/status/${tenantId}`, { token: server.adminToken })).body;
  const search = (key: string, query: string) =>
    api(server.url, "POST", "/search", { token: key, body: { query, nResults: 10, mode: "keyword" } });

  beforeAll(async () => {
    // PGlite on disk (in dataDir) survives the restart; PostgreSQL gets a database of its own.
    databaseUrl = await createTestDatabase();
    await start();
    for (const name of ["alpha", "bravo", "charlie"]) {
      tenants.push(await tenantWithKey(server.url, server.adminToken, `pool-${name}`, "free"));
    }
    dedicated = await tenantWithKey(server.url, server.adminToken, "dedicated-delta", "starter");
    for (const { tenantId } of [...tenants, dedicated]) {
      await launchUntilRunning(server.url, server.adminToken, tenantId);
    }
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("places two tenants per pool and a third in a new pool; the dedicated tenant has its own instance", async () => {
    const [a, b, c] = await Promise.all(tenants.map(({ tenantId }) => status(tenantId)));
    expect(a).toMatchObject({ tier: "shared", state: "running", tenantId: tenants[0]!.tenantId });
    expect(a!.poolId).toMatch(/^pol_/);
    expect(b!.poolId).toBe(a!.poolId);
    expect(c!.poolId).toMatch(/^pol_/);
    expect(c!.poolId).not.toBe(a!.poolId);
    expect(a!.url).toBe(b!.url);
    expect(await status(dedicated.tenantId)).toMatchObject({
      tier: "dedicated",
      poolId: null,
      state: "running",
    });
    // Two pool processes and one dedicated: one start each.
    expect(starts.sort()).toEqual([a!.poolId, c!.poolId, dedicated.tenantId].sort());
  });

  it("each tenant writes and searches its own namespace over REST, whoever shares its pool", async () => {
    for (const [i, { key }] of [...tenants, dedicated].entries()) {
      const res = await api(server.url, "POST", "/embed", {
        token: key,
        body: {
          ids: ["doc-1", `own-${i}`],
          documents: [`shared words of tenant${i}`, `private note of tenant${i}`],
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.count).toBe(2);
    }
    for (const [i, { key }] of [...tenants, dedicated].entries()) {
      const res = await search(key, "shared words private note tenant0 tenant1 tenant2 tenant3");
      expect(res.status).toBe(200);
      const texts = res.body.results.map((hit: { document: string }) => hit.document).sort();
      expect(texts).toEqual([`private note of tenant${i}`, `shared words of tenant${i}`]);
    }
  });

  it("the stock chromadb client through the gateway sees only the key's own namespace; a neighbour's collection id is not found", async () => {
    const client = (key: string) => {
      const { hostname, port } = new URL(server.url);
      return new ChromaClient({ host: hostname, port: Number(port), headers: { "x-chroma-token": key } });
    };
    const a = client(tenants[0]!.key);
    const b = client(tenants[1]!.key);
    const own = await a.getOrCreateCollection({ name: "gw-pool", embeddingFunction: null });
    await own.add({ ids: ["a1"], embeddings: [new Array(64).fill(0.5)], documents: ["alpha via gateway"] });
    expect(await own.count()).toBe(1);
    expect((await b.listCollections()).map((c) => c.name)).toEqual(["default"]);
    const headers = { "x-chroma-token": tenants[1]!.key, "content-type": "application/json" };
    const ns = "/api/v2/tenants/default_tenant/databases/default_database";
    for (const [method, pathTail, body] of [
      ["POST", `/collections/${own.id}/get`, {}],
      ["GET", `/collections/${own.id}/count`, undefined],
      ["POST", `/collections/${own.id}/delete`, { ids: ["a1"] }],
    ] as const) {
      const res = await fetch(`${server.url}${ns}${pathTail}`, {
        method,
        headers,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, pathTail).toBe(404);
    }
    expect(await own.count()).toBe(1);
  });

  it("a shared tenant's pool is not stopped or deleted for it", async () => {
    const res = await api(server.url, "POST", `/stop/${tenants[0]!.tenantId}`, { token: server.adminToken });
    expect(res.status).toBe(409);
    expect((await status(tenants[0]!.tenantId)).state).toBe("running");
  });

  it("a failed document's chunks leave its pool too, and only its own tenant's", async () => {
    const [owner, neighbour] = tenants;
    const text = "Pooled paragraph about lighthouses and their keepers. ".repeat(60);
    const ingest = async (key: string) => {
      const created = await api(server.url, "POST", "/docs", {
        token: key,
        body: { title: "Lighthouses", text, chunkSize: 50, chunkOverlap: 0 },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.id as string;
      const doc = await until(
        "ingested",
        async () => (await api(server.url, "GET", `/docs/${id}`, { token: key })).body,
        (doc) => doc.status === "ready" || doc.status === "failed",
        // Free tenants may make 5 requests a second: the polls leave room for the rest of the test.
        { everyMs: 400 },
      );
      expect(JSON.stringify(doc)).toContain('"status":"ready"');
      return id;
    };
    const mine = await ingest(owner!.key);
    const theirs = await ingest(neighbour!.key);
    const inChroma = async (key: string, documentId: string) => {
      const found = await api(server.url, "POST", "/search", {
        token: key,
        body: { query: "lighthouses", nResults: 1_000, where: { documentId }, mode: "keyword" },
      });
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      return found.body.results.length as number;
    };
    const chunkCount = (await api(server.url, "GET", `/docs/${mine}`, { token: owner!.key })).body.chunkCount;
    expect(chunkCount).toBeGreaterThan(1);
    expect(await inChroma(owner!.key, mine)).toBe(chunkCount);

    // What a failure the document's own status recorded leaves behind: its chunks, still searchable.
    await server.services.db.update(documents).set({ status: "failed" }).where(eq(documents.id, mine));
    await reconcileIngestions(server.services, { tenantId: owner!.tenantId });

    expect(await inChroma(owner!.key, mine)).toBe(0);
    expect((await api(server.url, "GET", `/docs/${mine}`, { token: owner!.key })).body).toMatchObject({
      status: "failed",
      chunkCount: 0,
    });
    // The pool neighbour's document, in the same Chroma, is untouched.
    const theirCount = (await api(server.url, "GET", `/docs/${theirs}`, { token: neighbour!.key })).body
      .chunkCount;
    expect(await inChroma(neighbour!.key, theirs)).toBe(theirCount);
  }, 180_000);

  it("a restarted control plane re-adopts the pools (no new process) and every tenant finds its records", async () => {
    await server.close({ stopInstances: false });
    starts.length = 0;
    await start();
    for (const [i, { key }] of [...tenants, dedicated].entries()) {
      const res = await search(key, `tenant${i}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.results.map((hit: { id: string }) => hit.id).sort()).toEqual(["doc-1", `own-${i}`]);
    }
    expect(starts).toEqual([]);
  });
  it("deleting a shared tenant removes its records from its pool (straight in Chroma, files on disk); its neighbour keeps its own", async () => {
    const [gone, neighbour] = [tenants[0]!, tenants[1]!];
    const poolId = (await status(gone.tenantId)).poolId!;
    expect((await status(neighbour.tenantId)).poolId).toBe(poolId);
    const poolDir = path.join(dataDir, "instances", poolId);
    // The pool's own Chroma (loopback, no auth): its port is in the config file it runs with.
    const config = readFileSync(path.join(poolDir, "chroma", "chroma-config.yaml"), "utf8");
    const chromaUrl = `http://127.0.0.1:${/^port: (\d+)$/m.exec(config)![1]}/api/v2/tenants`;
    /** The tenant's collections and records, straight from Chroma: null once its database is gone. */
    const inChroma = async (tenantId: string): Promise<{ collections: number; records: number } | null> => {
      const base = `${chromaUrl}/${tenantId}/databases/default_database`;
      if ((await fetch(base)).status === 404) return null;
      const collections = (await (await fetch(`${base}/collections`)).json()) as { id: string }[];
      let records = 0;
      for (const { id } of collections) {
        records += (await (await fetch(`${base}/collections/${id}/count`)).json()) as number;
      }
      return { collections: collections.length, records };
    };
    const indexDirs = () =>
      readdirSync(path.join(poolDir, "chroma")).filter((name) => /^[0-9a-f-]{36}$/.test(name)).length;
    // Its REST records and its gateway collection's ("gw-pool"), each collection with an index.
    const goneBefore = await inChroma(gone.tenantId);
    expect(goneBefore).toMatchObject({ collections: 2, records: 3 });
    const neighbourBefore = await inChroma(neighbour.tenantId);
    expect(neighbourBefore!.records).toBeGreaterThan(0);
    expect(existsSync(path.join(poolDir, "tenants", gone.tenantId))).toBe(true);
    const dirsBefore = indexDirs();

    const res = await api(server.url, "DELETE", `/tenants/${gone.tenantId}`, { token: server.adminToken });
    expect(res.status, JSON.stringify(res.body)).toBe(200);

    expect(await inChroma(gone.tenantId)).toBeNull();
    expect(existsSync(path.join(poolDir, "tenants", gone.tenantId))).toBe(false);
    expect(indexDirs()).toBe(dirsBefore - goneBefore!.collections);
    expect(await inChroma(neighbour.tenantId)).toEqual(neighbourBefore);
    expect(existsSync(path.join(poolDir, "tenants", neighbour.tenantId))).toBe(true);
    const found = await search(neighbour.key, "tenant1");
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.results.map((hit: { id: string }) => hit.id)).toContain("own-1");
  });
});
