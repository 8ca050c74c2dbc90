import { MAX_BATCH } from "@vdb/schemas/instances";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startTestInstance, type TestInstance } from "../testing";

let instance: TestInstance;
let token: string;
const call = (method: string, path: string, body?: unknown) =>
  instanceApi(instance.url, method, path, { token, body });

const MAX_DOCS = 50;

beforeAll(async () => {
  instance = await startTestInstance({ env: { MAX_DOCS: String(MAX_DOCS) }, maxBodyBytes: 512 * 1024 });
  token = await instance.token(["admin"]);
  const seeded = await call("POST", "/embed", {
    ids: Array.from({ length: 10 }, (_, i) => `seed-${i}`),
    documents: Array.from({ length: 10 }, (_, i) => `seed document ${i}`),
    metadatas: Array.from({ length: 10 }, (_, i) => ({ n: i })),
  });
  expect(seeded.status).toBe(200);
});
afterAll(async () => instance?.close());

/** What is stored: every collection's name and count. */
async function stored() {
  const collections = await instance.chroma.listCollections();
  return Object.fromEntries(
    await Promise.all(collections.map(async (c) => [c.name, await c.count()] as const)),
  );
}

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.message).toEqual(expect.any(String));
  expect(res.body.error.requestId).toMatch(/^req_/);
}

describe("bad embed bodies answer 400 and write nothing", () => {
  const cases: [string, unknown, string, string][] = [
    ["empty id", { ids: ["ok", ""], documents: ["a", "b"] }, "VALIDATION_FAILED", "ids.1"],
    [
      "duplicate ids in a batch",
      { ids: ["x", "y", "x"], documents: ["a", "b", "c"] },
      "VALIDATION_FAILED",
      "ids.2",
    ],
    ["mismatched lengths", { ids: ["x", "y"], documents: ["only one"] }, "VALIDATION_FAILED", "documents"],
    [
      "metadatas of another length",
      { ids: ["x"], documents: ["a"], metadatas: [{}, {}] },
      "VALIDATION_FAILED",
      "metadatas",
    ],
    ["neither documents nor embeddings", { ids: ["x"] }, "VALIDATION_FAILED", "documents"],
    [
      "invalid collection name",
      { collection: "a", ids: ["x"], documents: ["a"] },
      "VALIDATION_FAILED",
      "collection",
    ],
    [
      "collection name with a slash",
      { collection: "bad/name", ids: ["x"], documents: ["a"] },
      "VALIDATION_FAILED",
      "collection",
    ],
    ["unknown field", { ids: ["x"], documents: ["a"], vectors: [] }, "VALIDATION_FAILED", "(body)"],
    [
      "nested metadata",
      { ids: ["x"], documents: ["a"], metadatas: [{ a: { b: 1 } }] },
      "VALIDATION_FAILED",
      "metadatas.0.a",
    ],
    ["non-finite vector", { ids: ["x"], embeddings: [["NaN"]] }, "VALIDATION_FAILED", "embeddings.0.0"],
  ];
  for (const [label, body, code, path] of cases) {
    it(label, async () => {
      const before = await stored();
      const res = await call("POST", "/embed", body);
      expectError(res, 400, code);
      expect(res.body.error.issues.map((issue: { path: string }) => issue.path)).toContain(path);
      expect(await stored()).toEqual(before);
    });
  }

  it(`a batch over MAX_BATCH (${MAX_BATCH})`, async () => {
    const ids = Array.from({ length: MAX_BATCH + 1 }, (_, i) => `${i}`);
    const res = await call("POST", "/embed", { ids, embeddings: ids.map(() => [0]) });
    expectError(res, 400, "VALIDATION_FAILED");
    expect(res.body.error.issues.map((issue: { path: string }) => issue.path)).toContain("ids");
  });

  it("vectors of the wrong dimension", async () => {
    const before = await stored();
    const good = (await instance.provider.embed(["a"])).vectors[0]!;
    const res = await call("POST", "/embed", { ids: ["x", "y"], embeddings: [good, [0.1, 0.2, 0.3]] });
    expectError(res, 400, "BAD_REQUEST");
    expect(res.body.error.message).toContain("embeddings[1] has 3 dimensions");
    expect(res.body.error.message).toContain("64");
    // a new collection takes the instance model's dimension: 3-d vectors cannot create one either
    const fresh = await call("POST", "/embed", { collection: "fresh", ids: ["x"], embeddings: [[1, 2, 3]] });
    expectError(fresh, 400, "BAD_REQUEST");
    expect(await stored()).toEqual(before);
  });

  it("text into a collection of a model this instance cannot run", async () => {
    await instance.chroma.createCollection({
      name: "other-model",
      embeddingFunction: null,
      metadata: { model: "openai:text-embedding-3-small", dimension: 1536 },
    });
    const before = await stored();
    const res = await call("POST", "/embed", { collection: "other-model", ids: ["x"], documents: ["hello"] });
    expectError(res, 400, "BAD_REQUEST");
    expect(res.body.error.message).toContain("openai:text-embedding-3-small");
    expect(res.body.error.message).toContain("needs an OpenAI key");
    const search = await call("POST", "/search", { collection: "other-model", query: "hello" });
    expectError(search, 400, "BAD_REQUEST");
    expect(await stored()).toEqual(before);
    await instance.chroma.deleteCollection({ name: "other-model" });
  });

  it("malformed JSON", async () => {
    const before = await stored();
    for (const path of ["/embed", "/search", "/delete", "/collections"]) {
      const res = await instanceApi(instance.url, "POST", path, { token, rawBody: '{"ids": ["x",' });
      expectError(res, 400, "BAD_REQUEST");
    }
    expect(await stored()).toEqual(before);
  });

  it("a body that is not JSON", async () => {
    const res = await instanceApi(instance.url, "POST", "/embed", {
      token,
      rawBody: "ids=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.requestId).toMatch(/^req_/);
  });
});

describe("MAX_DOCS", () => {
  it("refuses a batch whose new ids would exceed it, writing nothing", async () => {
    const before = await stored();
    expect(before).toEqual({ default: 10 });
    const ids = Array.from({ length: 41 }, (_, i) => `new-${i}`);
    const res = await call("POST", "/embed", { ids, documents: ids });
    expectError(res, 403, "QUOTA_EXCEEDED");
    expect(res.body.error.message).toContain("10 of at most 50");
    expect(await stored()).toEqual(before);
  });

  it("counts only new ids: upserting existing ones plus new ones up to the limit passes", async () => {
    const ids = [
      ...Array.from({ length: 10 }, (_, i) => `seed-${i}`),
      ...Array.from({ length: 40 }, (_, i) => `new-${i}`),
    ];
    const res = await call("POST", "/embed", { ids, documents: ids });
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(50);
  });

  it("counts every collection", async () => {
    const res = await call("POST", "/embed", { collection: "second", ids: ["one"], documents: ["one"] });
    expectError(res, 403, "QUOTA_EXCEEDED");
    expect(await stored()).toEqual({ default: 50 });
    const created = await call("POST", "/collections", { name: "second" });
    expect(created.status).toBe(201);
    await call("DELETE", "/collections/second");
  });

  it("frees room when documents are deleted", async () => {
    const deleted = await call("POST", "/delete", { where: { n: { $lt: 5 } } });
    expect(deleted.body).toEqual({ collection: "default", deleted: 5, count: 45 });
    const res = await call("POST", "/embed", { ids: ["after-delete"], documents: ["fits again"] });
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(46);
  });
});

describe("MAX_DOCS under concurrent writes", () => {
  it("lets only as many writes through as fit", async () => {
    expect(await stored()).toEqual({ default: 46 });
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, batch) => {
        const ids = Array.from({ length: 3 }, (_, i) => `race-${batch}-${i}`);
        return call("POST", "/embed", { ids, documents: ids });
      }),
    );
    expect(results.map((res) => res.status).sort()).toEqual([200, 403, 403, 403]);
    expect(await stored()).toEqual({ default: 49 });
  });
});

describe("bad search and delete bodies answer 400", () => {
  const searches: [string, unknown, string][] = [
    ["unknown filter operator", { query: "x", where: { n: { $foo: 1 } } }, "where"],
    ["unknown top-level operator", { query: "x", where: { $nor: [{ n: 1 }, { n: 2 }] } }, "where"],
    ["two fields in one filter object", { query: "x", where: { n: 1, m: 2 } }, "where"],
    ["unknown document operator", { query: "x", whereDocument: { $like: "x" } }, "whereDocument"],
    ["both query and queryEmbedding", { query: "x", queryEmbedding: [1] }, "query"],
    ["neither query nor queryEmbedding", { nResults: 3 }, "query"],
    ["nResults out of range", { query: "x", nResults: 0 }, "nResults"],
    ["unknown include field", { query: "x", include: ["uris"] }, "include.0"],
    ["invalid collection name", { collection: "-bad-", query: "x" }, "collection"],
  ];
  for (const [label, body, path] of searches) {
    it(`search: ${label}`, async () => {
      const res = await call("POST", "/search", body);
      expectError(res, 400, "VALIDATION_FAILED");
      expect(
        res.body.error.issues.map((issue: { path: string }) =>
          issue.path.split(".").slice(0, path.split(".").length).join("."),
        ),
      ).toContain(path);
    });
  }

  it("search: query vector of the wrong dimension", async () => {
    const res = await call("POST", "/search", { queryEmbedding: [1, 2, 3] });
    expectError(res, 400, "BAD_REQUEST");
    expect(res.body.error.message).toContain("64");
  });

  it("search and delete in an unknown collection are 404", async () => {
    expectError(await call("POST", "/search", { collection: "nope", query: "x" }), 404, "NOT_FOUND");
    expectError(await call("POST", "/delete", { collection: "nope", ids: ["x"] }), 404, "NOT_FOUND");
    expectError(await call("DELETE", "/collections/nope"), 404, "NOT_FOUND");
  });

  it("delete: unknown operator, empty filter, nothing to delete by", async () => {
    const before = await stored();
    for (const body of [{ where: { n: { $foo: 1 } } }, { where: {} }, {}, { ids: [] }]) {
      expectError(await call("POST", "/delete", body), 400, "VALIDATION_FAILED");
    }
    expect(await stored()).toEqual(before);
  });

  it("collections: invalid names", async () => {
    expectError(await call("POST", "/collections", { name: "x" }), 400, "VALIDATION_FAILED");
    expectError(await call("POST", "/collections", { name: "a".repeat(64) }), 400, "VALIDATION_FAILED");
    expectError(await call("DELETE", "/collections/..."), 400, "VALIDATION_FAILED");
  });

  it("unknown routes and methods are JSON 404s", async () => {
    expectError(await call("GET", "/nowhere"), 404, "NOT_FOUND");
    expectError(await instanceApi(instance.url, "GET", "/nowhere"), 404, "NOT_FOUND");
    expectError(await call("PUT", "/embed", {}), 404, "NOT_FOUND");
  });
});

// Last: the server answers 413 without reading the whole body and then drops the connection,
// which would break the next request the client sends on it.
describe("limits", () => {
  it("a body over the size limit", async () => {
    const res = await call("POST", "/embed", { ids: ["big"], documents: ["x".repeat(600 * 1024)] });
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });
});
