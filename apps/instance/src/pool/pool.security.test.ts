import { newId } from "@vdb/schemas/ids";
import { instanceAudience, poolAudience } from "@vdb/schemas/tokens";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startTestPool, type TestPool } from "../testing";

/**
 * A pool serves many tenants from one Chroma: each must reach its own namespace only, whatever
 * path, collection name or id it sends, and whatever a token claims besides what was signed.
 */
let pool: TestPool;
const tenantA = newId("tenant");
const tenantB = newId("tenant");
let tokenA: string;
let tokenB: string;
const NS = "/chroma/api/v2/tenants/default_tenant/databases/default_database";
const as = (token: string) => (method: string, path: string, body?: unknown) =>
  instanceApi(pool.url, method, path, { token, body });

let collectionIdA: string;

beforeAll(async () => {
  pool = await startTestPool({ env: { MAX_DOCS: "3" } });
  tokenA = await pool.token(tenantA, ["admin"]);
  tokenB = await pool.token(tenantB, ["admin"]);
  for (const [token, who] of [
    [tokenA, "alpha"],
    [tokenB, "bravo"],
  ] as const) {
    const res = await as(token)("POST", "/embed", {
      ids: ["same-id", `${who}-2`],
      documents: [`${who} secret one`, `${who} secret two`],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.count).toBe(2);
  }
  const listed = await as(tokenA)("GET", `${NS}/collections`);
  expect(listed.status).toBe(200);
  collectionIdA = listed.body.find((c: { name: string }) => c.name === "default").id;
});
afterAll(async () => pool?.close());

describe("a pool tenant", () => {
  it("searches (vector and keyword) and reads only its own records, with the same ids and names as a neighbour", async () => {
    for (const mode of ["vector", "keyword", "hybrid"]) {
      const res = await as(tokenB)("POST", "/search", { query: "alpha secret", mode, nResults: 10 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      for (const hit of res.body.results) expect(hit.document).toContain("bravo");
    }
    const got = await as(tokenB)("POST", `${NS}/collections/${await ownId(tokenB)}/get`, {
      ids: ["same-id"],
      include: ["documents"],
    });
    expect(got.body.documents).toEqual(["bravo secret one"]);
  });

  it("cannot reach a neighbour's collection by its id through any Chroma route: 404, nothing changed", async () => {
    const b = as(tokenB);
    for (const [method, action, body] of [
      ["POST", "get", { include: ["documents"] }],
      ["POST", "query", { query_embeddings: [new Array(64).fill(0.1)], n_results: 2 }],
      ["GET", "count", undefined],
      ["POST", "add", { ids: ["x"], embeddings: [new Array(64).fill(0.1)], documents: ["planted"] }],
      [
        "POST",
        "upsert",
        { ids: ["same-id"], embeddings: [new Array(64).fill(0.1)], documents: ["overwritten"] },
      ],
      ["POST", "update", { ids: ["same-id"], documents: ["overwritten"] }],
      ["POST", "delete", { ids: ["same-id"] }],
    ] as const) {
      const res = await b(method, `${NS}/collections/${collectionIdA}/${action}`, body);
      expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain("alpha");
    }
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await b(
        method,
        `${NS}/collections/${collectionIdA}`,
        method === "PUT" ? { new_name: "stolen" } : undefined,
      );
      expect(res.status, method).toBe(404);
    }
    const still = await as(tokenA)("POST", `${NS}/collections/${collectionIdA}/get`, {
      include: ["documents"],
    });
    expect(still.body.documents.sort()).toEqual(["alpha secret one", "alpha secret two"]);
  });

  it("cannot name another namespace in the path (the neighbour's, or Chroma's own default)", async () => {
    const b = as(tokenB);
    for (const path of [
      `/chroma/api/v2/tenants/${tenantA}/databases/default_database/collections`,
      `/chroma/api/v2/tenants/${tenantA}/databases/default_database/collections/${collectionIdA}/get`,
      "/chroma/api/v2/tenants",
      `/chroma/api/v2/tenants/${tenantA}`,
    ]) {
      const res = await b("GET", path);
      expect(res.status, path).toBe(403);
    }
  });

  it("lists its own collections only, described in the gateway's default namespace", async () => {
    const listed = await as(tokenB)("GET", `${NS}/collections`);
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0].id).not.toBe(collectionIdA);
    expect(listed.body[0]).toMatchObject({ tenant: "default_tenant", database: "default_database" });
    expect((await as(tokenB)("GET", `${NS}/collections_count`)).body).toBe(1);
  });

  it("has its own MAX_DOCS: a full neighbour does not use up its room, and its own quota holds", async () => {
    const full = await as(tokenA)("POST", "/embed", { ids: ["a3", "a4"], documents: ["alpha 3", "alpha 4"] });
    expect(full.status).toBe(403);
    expect(full.body.error.code).toBe("QUOTA_EXCEEDED");
    const fits = await as(tokenB)("POST", "/embed", { ids: ["b3"], documents: ["bravo 3"] });
    expect(fits.status, JSON.stringify(fits.body)).toBe(200);
    expect(fits.body.count).toBe(3);
  });

  it("deletes by filter in its own namespace only", async () => {
    const res = await as(tokenA)("POST", "/delete", { ids: ["same-id"] });
    expect(res.status).toBe(200);
    expect(res.body.deleted).toBe(1);
    const got = await as(tokenB)("POST", "/search", { query: "secret one", mode: "keyword" });
    expect(got.body.results.map((hit: { id: string }) => hit.id)).toContain("same-id");
  });

  it("sees its own counts in /healthz", async () => {
    const res = await instanceApi(pool.url, "GET", "/healthz", { token: tokenB });
    expect(res.status).toBe(200);
    expect(res.body.tenantId).toBe(tenantB);
    expect(res.body.counts.documents).toBe(3);
    // The pool's row cache holds its neighbours' records too: not a tenant's to see.
    expect(res.body.rowCache).toBeUndefined();
    expect(res.body.pool).toBeUndefined();
  });
});

describe("pool tokens", () => {
  it("are refused without the pool's audience and claim, or with a dedicated instance's token", async () => {
    const otherPool = newId("pool");
    const forged = [
      await pool.issuer.mint({ tenant: tenantA, scopes: ["read"] }), // a dedicated token: audience vdb:instance:A
      await pool.issuer.mint({ tenant: tenantA, scopes: ["read"], pool: otherPool }),
      await pool.issuer.mint({
        tenant: tenantA,
        scopes: ["read"],
        pool: otherPool,
        audience: poolAudience(pool.config.POOL_ID),
      }),
      await pool.issuer.mint({
        tenant: tenantA,
        scopes: ["read"],
        pool: pool.config.POOL_ID,
        audience: instanceAudience(tenantA),
      }),
      await pool.issuer.mint({ tenant: "default_tenant", scopes: ["read"], pool: pool.config.POOL_ID }),
    ];
    for (const token of forged) {
      const res = await as(token)("POST", "/search", { query: "alpha" });
      expect(res.status).toBe(401);
    }
  });
});

async function ownId(token: string): Promise<string> {
  const listed = await as(token)("GET", `${NS}/collections`);
  return listed.body[0].id;
}
