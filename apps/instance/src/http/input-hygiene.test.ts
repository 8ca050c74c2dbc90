import { MAX_JSON_DEPTH, MAX_WHERE_DEPTH } from "@vdb/schemas/input-hygiene";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInstance, type TestInstance } from "../testing";

let instance: TestInstance;
let token: string;

beforeAll(async () => {
  instance = await startTestInstance();
  token = await instance.token(["admin"]);
});
afterAll(async () => instance?.close());

async function post(path: string, body: string) {
  const response = await fetch(`${instance.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
}

function expectRefused(res: { status: number; body: any }, field: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe("VALIDATION_FAILED");
  expect(res.body.error.message).toContain(field);
  expect(res.body.error.requestId).toMatch(/^req_/);
}

function deepWhere(levels: number): unknown {
  let where: unknown = { topic: "x" };
  for (let i = 0; i < levels; i++) where = { $and: [where, { n: { $gt: i } }] };
  return where;
}

describe("the instance refuses NULs, lone surrogates and deep nesting with 400, storing nothing", () => {
  it.each([
    ["a NUL in a document", '{"ids":["a"],"documents":["x\\u0000y"]}', "documents.0"],
    [
      "a lone surrogate in a metadata value",
      '{"ids":["a"],"documents":["x"],"metadatas":[{"k":"\\udfff"}]}',
      "metadatas.0.k",
    ],
    ["a NUL in an id", '{"ids":["a\\u0000"],"documents":["x"]}', "ids.0"],
    [
      "a metadata 10,000 levels deep",
      `{"ids":["a"],"documents":["x"],"metadatas":[${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}]}`,
      `more than ${MAX_JSON_DEPTH} levels`,
    ],
  ])("POST /embed with %s", async (_, body, field) => {
    expectRefused(await post("/embed", body), field);
    expect(await instance.chroma.listCollections()).toEqual([]);
  });

  it("POST /search with a where 2,000 levels deep, or just past its cap", async () => {
    expectRefused(await post("/search", JSON.stringify({ query: "q", where: deepWhere(2_000) })), "where");
    const deep = await post("/search", JSON.stringify({ query: "q", where: deepWhere(MAX_WHERE_DEPTH / 2) }));
    expectRefused(deep, "where");
    expect(deep.body.error.message).toContain(`more than ${MAX_WHERE_DEPTH} levels`);
  });

  it("Chroma's own API (/chroma/api/v2) under the same rules", async () => {
    const res = await post(
      "/chroma/api/v2/tenants/default_tenant/databases/default_database/collections",
      '{"name":"notes\\u0000"}',
    );
    expectRefused(res, "name");
    expect(await instance.chroma.listCollections()).toEqual([]);
  });

  it("Chroma's add and query (held as bytes, never parsed whole) under the same rules", async () => {
    const collections = "/chroma/api/v2/tenants/default_tenant/databases/default_database/collections";
    const created = await post(collections, '{"name":"notes"}');
    expect(created.status).toBe(200);
    const id = created.body.id as string;
    const added = await post(
      `${collections}/${id}/add`,
      '{"ids":["a","b"],"embeddings":[[1,0],[0,1]],"documents":["fine","bad \\ud800 here"]}',
    );
    expectRefused(added, "documents.1");
    const queried = await post(
      `${collections}/${id}/query`,
      JSON.stringify({ query_embeddings: [[1, 0]], where: deepWhere(MAX_WHERE_DEPTH / 2) }),
    );
    expectRefused(queried, "where");
    const count = await fetch(`${instance.url}${collections}/${id}/count`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await count.json()).toBe(0);
  });
});
