import { MAX_JSON_DEPTH, MAX_WHERE_DEPTH } from "@vdb/schemas/input-hygiene";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenants } from "../lib/db/schema";
import { seedTenant, startTestServer, type TestServer } from "../testing";
import { api } from "../testing/http";

let server: TestServer;
let tenantId: string;
let key: string;

beforeAll(async () => {
  // Nothing here reaches an instance: every request is refused at the edge.
  server = await startTestServer({ env: { RUN_WORKER: "false" } });
  tenantId = (await seedTenant(server.services, "hygiene")).id;
  const created = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
    token: server.adminToken,
    body: { name: "k", scopes: ["read", "write"] },
  });
  key = created.body.secret;
});
afterAll(async () => server?.close());

async function tenantCount() {
  const [row] = await server.services.db.select({ n: count() }).from(tenants);
  return row?.n;
}

/** `{"a":{"a":…1…}}`, `levels` deep, written as text (no recursive stringify on this side). */
function deepJson(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
}

/** A `where` of `levels` nested `$and`s: each adds an object and an array (two levels). */
function deepWhere(levels: number): unknown {
  let where: unknown = { topic: "x" };
  for (let i = 0; i < levels; i++) where = { $and: [where, { n: { $gt: i } }] };
  return where;
}

function expectRefused(res: { status: number; body: any }, field: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe("VALIDATION_FAILED");
  expect(res.body.error.message).toContain(field);
  expect(res.body.error.requestId).toMatch(/^req_/);
}

/** The gateway answers in Chroma's error shape, which its clients raise as InvalidArgumentError. */
function expectChromaRefusal(res: { status: number; body: any }, field: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error).toBe("InvalidArgumentError");
  expect(res.body.message).toContain(field);
}

async function rawPost(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${server.adminToken}`, ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe("REST: NULs, lone surrogates and deep nesting are 400 VALIDATION_FAILED naming the field", () => {
  it.each([
    ["a NUL", "Acme\u0000Corp"],
    ["a lone surrogate", "Acme \ud800 Corp"],
  ])("a tenant name with %s writes nothing", async (_, name) => {
    const before = await tenantCount();
    const res = await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "bad-name", name },
    });
    expectRefused(res, "name");
    expect(await tenantCount()).toBe(before);
  });

  it("a NUL in an object key or a nested metadata value", async () => {
    const keyed = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "t", text: "hello", metadata: { "a\u0000": 1 } },
    });
    expectRefused(keyed, "metadata");
    const nested = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "t", json: { list: ["ok", "bad\u0000"] } },
    });
    expectRefused(nested, "json.list.1");
  });

  it("a NUL in the query or the path", async () => {
    expectRefused(
      await api(server.url, "GET", "/tenants?cursor=a%00b", { token: server.adminToken }),
      "cursor",
    );
    expectRefused(await api(server.url, "GET", "/tenants/ten_a%00b", { token: server.adminToken }), "path");
  });

  it(`a JSON body 10,000 levels deep (the cap is ${MAX_JSON_DEPTH})`, async () => {
    const res = await rawPost(
      `/api/v1/docs?tenantId=${tenantId}`,
      `{"title":"t","json":${deepJson(10_000)}}`,
    );
    expectRefused(res, "json.a.a");
    expect(res.body.error.message).toContain(`more than ${MAX_JSON_DEPTH} levels`);
  });

  it(`a where filter 2,000 levels deep, and one just past its own cap of ${MAX_WHERE_DEPTH}`, async () => {
    const huge = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "q", where: deepWhere(2_000) },
    });
    expectRefused(huge, "where");
    const deep = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "q", where: deepWhere(MAX_WHERE_DEPTH / 2) },
    });
    expectRefused(deep, "where");
    expect(deep.body.error.message).toContain(`more than ${MAX_WHERE_DEPTH} levels`);
  });
});

describe("tRPC: the same rules, in tRPC's error shape", () => {
  it.each([
    ["a NUL", '"Acme\\u0000Corp"'],
    ["a lone surrogate", '"Acme \\udc00 Corp"'],
    ["10,000 levels of nesting", deepJson(10_000)],
  ])("tenants.create with %s in the name writes nothing", async (_, name) => {
    const before = await tenantCount();
    const res = await rawPost("/trpc/tenants.create", `{"slug":"bad-trpc","name":${name}}`);
    expect(res.status).toBe(400);
    expect(res.body.error.data).toMatchObject({
      appCode: "VALIDATION_FAILED",
      requestId: expect.any(String),
    });
    expect(res.body.error.message).toContain("name");
    expect(await tenantCount()).toBe(before);
  });
});

describe("the Chroma gateway (/api/v2): the same rules", () => {
  const collections = "/api/v2/tenants/default_tenant/databases/default_database/collections";

  it.each([
    ["a NUL", '{"name":"notes\\u0000"}', "name"],
    ["a lone surrogate", '{"name":"notes","metadata":{"k":"\\ud800"}}', "metadata.k"],
    ["10,000 levels of nesting", `{"name":"notes","metadata":${deepJson(10_000)}}`, "metadata.a"],
  ])("creating a collection with %s is refused", async (_, body, field) => {
    const res = await rawPost(collections, body, { authorization: "", "x-chroma-token": key });
    expectChromaRefusal(res, field);
  });

  it("a NUL in the path or the query, in Chroma's shape", async () => {
    const res = await fetch(`${server.url}${collections}/notes%00?limit=1`, {
      headers: { "x-chroma-token": key },
    });
    expectChromaRefusal({ status: res.status, body: await res.json() }, "path");
  });

  it("a query whose where is 2,000 levels deep is refused", async () => {
    const res = await rawPost(
      `${collections}/00000000-0000-0000-0000-000000000000/query`,
      JSON.stringify({ query_embeddings: [[0.1]], where: deepWhere(2_000) }),
      { authorization: "", "x-chroma-token": key },
    );
    expectChromaRefusal(res, "where");
  });

  it(`a query whose where is just past its cap of ${MAX_WHERE_DEPTH}`, async () => {
    const res = await rawPost(
      `${collections}/00000000-0000-0000-0000-000000000000/query`,
      JSON.stringify({ query_embeddings: [[0.1]], where: deepWhere(MAX_WHERE_DEPTH / 2) }),
      { authorization: "", "x-chroma-token": key },
    );
    expectChromaRefusal(res, "where");
    expect(res.body.message).toContain(`more than ${MAX_WHERE_DEPTH} levels`);
  });
});
