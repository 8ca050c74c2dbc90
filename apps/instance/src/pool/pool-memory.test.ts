import { readFile } from "node:fs/promises";
import { newId } from "@vdb/schemas/ids";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { instanceApi, startChroma, startTestPool, type TestChroma, type TestPool } from "../testing";

/**
 * A pool's memory follows its active tenants: its Chroma keeps at most POOL_CHROMA_HNSW_CACHE
 * HNSW indexes loaded and the instance at most POOL_MAX_LOADED_TENANTS tenants' state, dropping
 * idle ones; a dropped tenant's next request loads it back from disk and answers as before.
 */
const TENANTS = 8;
const CACHE = 2;
const MAX_LOADED = 3;
// 512-d, as the bench's: an index Chroma loads is then ~24 MB (10,000 reserved slots).
const DIMENSION = "512";

let chroma: TestChroma;
let pool: TestPool;
/** Chroma's RSS before any tenant's index was made. */
let startRssMb: number;
const tenants = Array.from({ length: TENANTS }, (_, i) => ({ id: newId("tenant"), word: `word${i}x` }));

const as = (tenant: string) => async (method: string, path: string, body?: unknown) =>
  instanceApi(pool.url, method, path, { token: await pool.token(tenant, ["admin"]), body });

async function chromaRssMb(): Promise<number> {
  const status = await readFile(`/proc/${chroma.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/**
 * The pool's figures, as the control plane's token sees them, counted before the token's own
 * tenant (`observer`, which this call keeps loaded) is loaded to answer.
 */
async function poolHealth(target: TestPool = pool, observer = tenants[0]!.id) {
  const token = await target.issuer.mint({
    tenant: observer,
    scopes: ["read"],
    pool: target.config.POOL_ID,
    subject: "control-plane",
  });
  const res = await instanceApi(target.url, "GET", "/healthz", { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  // The control plane sees the pool's shared row cache beside its other memory figures.
  expect(res.body.rowCache.maxBytes).toBe(target.config.ROW_CACHE_MB * 1024 * 1024);
  return res.body.pool as { loadedTenants: number; maxLoadedTenants: number };
}

/** Every tenant's search finds its own document first, in vector and keyword mode. */
async function searchEveryTenant(): Promise<void> {
  for (const { id, word } of tenants) {
    for (const mode of ["vector", "keyword"]) {
      const res = await (await as(id))("POST", "/search", { query: `${word} alpha`, mode, nResults: 3 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.results[0].id, `${mode} search of ${word}`).toBe(`${word}-1`);
      for (const hit of res.body.results) expect(hit.document).toContain(word);
    }
  }
}

beforeAll(async () => {
  chroma = await startChroma(undefined, { hnswCacheCapacity: CACHE });
  startRssMb = await chromaRssMb();
  pool = await startTestPool({
    chromaUrl: chroma.url,
    env: { DIMENSION, POOL_MAX_LOADED_TENANTS: String(MAX_LOADED), POOL_TENANT_IDLE_MS: "3600000" },
  });
  for (const { id, word } of tenants) {
    const res = await (await as(id))("POST", "/embed", {
      ids: [`${word}-1`, `${word}-2`, `${word}-3`],
      documents: [`${word} alpha first`, `${word} beta second`, `${word} gamma third`],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}, 120_000);
afterAll(async () => {
  await pool?.close();
  await chroma?.stop();
});

describe("a pool's memory", () => {
  it("keeps at most POOL_MAX_LOADED_TENANTS tenants loaded, and a dropped tenant's searches answer as before", async () => {
    await searchEveryTenant();
    const health = await poolHealth();
    expect(health.maxLoadedTenants).toBe(MAX_LOADED);
    expect(health.loadedTenants).toBeLessThanOrEqual(MAX_LOADED);
    // Twice round: every tenant was dropped (and its Chroma index evicted) since its last search.
    await searchEveryTenant();
    expect((await poolHealth()).loadedTenants).toBeLessThanOrEqual(MAX_LOADED);
  });

  it("keeps at most its cache of indexes in Chroma's memory, and a write after an eviction is found", async () => {
    await searchEveryTenant();
    for (const { id, word } of tenants) {
      const res = await (await as(id))("POST", "/embed", {
        ids: [`${word}-4`],
        documents: [`${word} delta late`],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    for (const { id, word } of tenants) {
      const res = await (await as(id))("POST", "/search", { query: `${word} delta late`, mode: "vector" });
      expect(res.body.results[0].id, JSON.stringify(res.body)).toBe(`${word}-4`);
    }
    // 8 tenants' indexes all loaded would add ~190 MB; bounded to 2, Chroma grows far less.
    const grown = (await chromaRssMb()) - startRssMb;
    expect(grown).toBeLessThan((TENANTS * 24) / 2);
  });
});

describe("a pool collection made through Chroma's API", () => {
  it("persists its index on every write, whatever configuration the caller sent", async () => {
    const chromaApi = await as(tenants[0]!.id);
    const NS = "/chroma/api/v2/tenants/default_tenant/databases/default_database";
    const made = await chromaApi("POST", `${NS}/collections`, {
      name: "own-config",
      configuration: { hnsw: { space: "l2", sync_threshold: 500 } },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const changed = await chromaApi("PUT", `${NS}/collections/${made.body.id}`, {
      new_configuration: { hnsw: { sync_threshold: 700 } },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    // Straight from Chroma, in the tenant's namespace.
    const listed = await fetch(
      `${chroma.url}/api/v2/tenants/${tenants[0]!.id}/databases/default_database/collections`,
    );
    const all = (await listed.json()) as { name: string; configuration_json: { hnsw: unknown } }[];
    const stored = all.find((collection) => collection.name === "own-config");
    expect(stored?.configuration_json.hnsw).toMatchObject({ space: "l2", sync_threshold: 1 });
  });
});

describe("a pool tenant idle past POOL_TENANT_IDLE_MS", () => {
  let idlePool: TestPool;
  beforeAll(async () => {
    idlePool = await startTestPool({ chromaUrl: chroma.url, env: { POOL_TENANT_IDLE_MS: "1000" } });
  });
  afterAll(async () => idlePool?.close());

  it("is dropped from memory, and its next keyword search loads its index from disk", async () => {
    const tenant = newId("tenant");
    const token = await idlePool.token(tenant, ["admin"]);
    // Polled every 250 ms, the observer is never idle for a second: it stays loaded throughout.
    const observer = newId("tenant");
    await poolHealth(idlePool, observer);
    const written = await instanceApi(idlePool.url, "POST", "/embed", {
      token,
      body: { ids: ["a", "b"], documents: ["quiet harbour lights", "noisy city traffic"] },
    });
    expect(written.status, JSON.stringify(written.body)).toBe(200);
    // Loaded by its write; then only the observer is left.
    await vi.waitFor(async () => expect((await poolHealth(idlePool, observer)).loadedTenants).toBe(1), {
      timeout: 20_000,
      interval: 250,
    });
    const found = await instanceApi(idlePool.url, "POST", "/search", {
      token,
      body: { query: "harbour", mode: "keyword" },
    });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.results.map((hit: { id: string }) => hit.id)).toEqual(["a"]);
    expect((await poolHealth(idlePool, observer)).loadedTenants).toBe(2);
  });
});
