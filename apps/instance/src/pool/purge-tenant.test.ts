import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { newId } from "@vdb/schemas/ids";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startChroma, startTestPool, type TestChroma, type TestPool } from "../testing";

/**
 * Deleting a shared-tier tenant removes its data from its pool: its Chroma collections and
 * database, the index directories Chroma leaves behind, its keyword index files. Its
 * neighbour's data stays whole. Checked straight in Chroma and on disk.
 */
let chroma: TestChroma;
let pool: TestPool;
const gone = newId("tenant");
const neighbour = newId("tenant");

const as = (tenant: string, subject?: string) => async (method: string, route: string, body?: unknown) =>
  instanceApi(pool.url, method, route, {
    token: await pool.issuer.mint({
      tenant,
      scopes: ["admin"],
      pool: pool.config.POOL_ID,
      ...(subject ? { subject } : {}),
    }),
    body,
  });

/** Straight from Chroma: the tenant's collections and their record counts (null: no database). */
async function inChroma(tenant: string): Promise<Record<string, number> | null> {
  const base = `${chroma.url}/api/v2/tenants/${tenant}/databases/default_database`;
  if ((await fetch(base)).status === 404) return null;
  const listed = await fetch(`${base}/collections`);
  const counts: Record<string, number> = {};
  for (const { id, name } of (await listed.json()) as { id: string; name: string }[]) {
    counts[name] = (await (await fetch(`${base}/collections/${id}/count`)).json()) as number;
  }
  return counts;
}

/** Chroma's index directories (named by segment id). */
async function indexDirectories(): Promise<string[]> {
  return (await readdir(chroma.dir)).filter((name) => /^[0-9a-f-]{36}$/.test(name));
}

beforeAll(async () => {
  chroma = await startChroma();
  pool = await startTestPool({ chromaUrl: chroma.url, chromaDataDir: chroma.dir });
  for (const [tenant, collection] of [
    [gone, "default"],
    [gone, "second"],
    [neighbour, "default"],
  ] as const) {
    const res = await (await as(tenant))("POST", "/embed", {
      collection,
      ids: ["one", "two", "three"],
      documents: [`${collection} alpha`, `${collection} beta`, `${collection} gamma`],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // A keyword search: the tenant's keyword index files are on disk.
    const found = await (await as(tenant))("POST", "/search", {
      collection,
      query: "alpha",
      mode: "keyword",
    });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
  }
}, 60_000);
afterAll(async () => {
  await pool?.close();
  await chroma?.stop();
});

describe("removing a pool tenant's data", () => {
  it("is for the control plane only: the tenant's own admin token is refused, nothing removed", async () => {
    const res = await (await as(gone))("DELETE", "/pool/tenant");
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(await inChroma(gone)).toEqual({ default: 3, second: 3 });
  });

  it("drops its collections, database, index directories and keyword files, and leaves its neighbour whole", async () => {
    const dataDir = pool.config.DATA_DIR;
    expect(existsSync(path.join(dataDir, "tenants", gone, "keyword"))).toBe(true);
    expect(await indexDirectories()).toHaveLength(3);

    const res = await (await as(gone, "control-plane"))("DELETE", "/pool/tenant");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ tenantId: gone, collections: 2, documents: 6, indexDirectories: 2 });

    expect(await inChroma(gone)).toBeNull();
    expect(existsSync(path.join(dataDir, "tenants", gone))).toBe(false);
    expect(await indexDirectories()).toHaveLength(1);

    expect(await inChroma(neighbour)).toEqual({ default: 3 });
    expect(existsSync(path.join(dataDir, "tenants", neighbour, "keyword"))).toBe(true);
    for (const mode of ["vector", "keyword"]) {
      const found = await (await as(neighbour))("POST", "/search", { query: "default alpha", mode });
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      expect(found.body.results[0].id).toBe("one");
    }
  });

  it("leaves the tenant nothing to find, and is safe to repeat", async () => {
    const again = await (await as(gone, "control-plane"))("DELETE", "/pool/tenant");
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ collections: 0, documents: 0 });
    const listed = await (await as(gone))("GET", "/collections");
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body).toEqual([]);
  });
});
