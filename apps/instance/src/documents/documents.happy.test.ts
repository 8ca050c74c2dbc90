import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startTestInstance, type TestInstance } from "../testing";

let instance: TestInstance;
let token: string;
const call = (method: string, path: string, body?: unknown) =>
  instanceApi(instance.url, method, path, { token, body });

const TOPICS = ["cats", "dogs", "birds", "fish"] as const;
const docs = Array.from({ length: 1_000 }, (_, i) => {
  const topic = TOPICS[i % 4]!;
  return {
    id: `doc-${i}`,
    document: `${topic} note number ${i}: all about ${topic} and their habits`,
    metadata: { topic, n: i, even: i % 2 === 0 },
  };
});

beforeAll(async () => {
  instance = await startTestInstance({ env: { MAX_DOCS: "5000" } });
  token = await instance.token(["write"]);
  const res = await call("POST", "/embed", {
    ids: docs.map((doc) => doc.id),
    documents: docs.map((doc) => doc.document),
    metadatas: docs.map((doc) => doc.metadata),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toEqual({
    collection: "default",
    upserted: 1_000,
    dimension: 64,
    count: 1_000,
    truncated: [],
  });
});
afterAll(async () => instance?.close());

describe("search", () => {
  it("a where filter returns only matching documents, nearest first", async () => {
    const res = await call("POST", "/search", {
      query: "all about cats",
      mode: "vector",
      nResults: 30,
      where: { topic: "cats" },
    });
    expect(res.status).toBe(200);
    expect(res.body.collection).toBe("default");
    expect(res.body.results).toHaveLength(30);
    for (const hit of res.body.results) {
      expect(hit.metadata.topic).toBe("cats");
      expect(hit.document).toContain("cats");
      expect(hit.id).toMatch(/^doc-\d+$/);
    }
    const distances = res.body.results.map((hit: { distance: number }) => hit.distance);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
  });

  it("combines operators and content filters", async () => {
    const res = await call("POST", "/search", {
      query: "birds",
      nResults: 100,
      where: { $and: [{ topic: { $in: ["birds", "fish"] } }, { n: { $lt: 100 } }] },
      whereDocument: { $contains: "birds" },
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(25);
    for (const hit of res.body.results) {
      expect(hit.metadata.topic).toBe("birds");
      expect(hit.metadata.n).toBeLessThan(100);
    }
  });

  it("ranks filtered results exactly as Chroma's own distances would", async () => {
    // A filter matching every document takes the exact path (≤ EXACT_FILTER_LIMIT matches).
    // Chroma's unfiltered answer comes from its HNSW index, which is approximate: it may miss a
    // near record (a CI run saw it miss one). So the exact path's i-th hit is never farther than
    // Chroma's i-th, and a record both return has the same distance in both.
    type Hit = { id: string; distance: number };
    const unfiltered = await call("POST", "/search", { query: "fish swim", mode: "vector", nResults: 5 });
    const filtered = await call("POST", "/search", {
      query: "fish swim",
      mode: "vector",
      nResults: 5,
      where: { n: { $gte: 0 } },
    });
    const approximate = unfiltered.body.results as Hit[];
    const exact = filtered.body.results as Hit[];
    expect(exact).toHaveLength(5);
    for (const [index, hit] of exact.entries()) {
      expect(hit.distance).toBeLessThanOrEqual(approximate[index]!.distance + 1e-5);
    }
    const shared = exact.filter((hit) => approximate.some((other) => other.id === hit.id));
    expect(shared.length).toBeGreaterThan(0);
    for (const hit of shared) {
      expect(hit.distance).toBeCloseTo(approximate.find((other) => other.id === hit.id)!.distance, 5);
    }
  });

  it("answers only the included fields; a query vector works too", async () => {
    const {
      vectors: [vector],
    } = await instance.provider.embed([docs[7]!.document]);
    const res = await call("POST", "/search", {
      queryEmbedding: vector,
      nResults: 1,
      include: ["embeddings"],
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(1);
    const [hit] = res.body.results;
    expect(hit.id).toBe("doc-7");
    // The included fields, and always the hit's scores (vector mode: its similarity, 1 − distance).
    expect(Object.keys(hit).sort()).toEqual(["embedding", "id", "score", "vectorScore"]);
    expect(hit.embedding).toHaveLength(64);
    expect(hit.score).toBeCloseTo(1, 5);
  });
});

describe("upsert", () => {
  it("an existing id is updated and the count is unchanged", async () => {
    const res = await call("POST", "/embed", {
      ids: ["doc-1"],
      documents: ["completely rewritten text about zebras"],
      metadatas: [{ topic: "zebras" }],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ upserted: 1, count: 1_000 });
    const stored = await (await instance.chroma.getCollection({ name: "default" })).get({ ids: ["doc-1"] });
    expect(stored.documents).toEqual(["completely rewritten text about zebras"]);
    // Chroma's upsert semantics: the keys given replace theirs, the others stay.
    expect(stored.metadatas).toEqual([{ topic: "zebras", n: 1, even: false }]);
    const search = await call("POST", "/search", {
      query: "zebras",
      nResults: 1,
      where: { topic: "zebras" },
    });
    expect(search.body.results.map((hit: { id: string }) => hit.id)).toEqual(["doc-1"]);
  });
});

describe("delete", () => {
  it("by ids and by where, counting what went", async () => {
    const byIds = await call("POST", "/delete", { ids: ["doc-0", "doc-2", "no-such-doc"] });
    expect(byIds.status).toBe(200);
    expect(byIds.body).toEqual({ collection: "default", deleted: 2, count: 998 });

    const byWhere = await call("POST", "/delete", { where: { topic: "fish" } });
    expect(byWhere.status).toBe(200);
    expect(byWhere.body).toEqual({ collection: "default", deleted: 250, count: 748 });

    const both = await call("POST", "/delete", { ids: ["doc-4", "doc-5"], where: { topic: "cats" } });
    expect(both.body).toMatchObject({ deleted: 1, count: 747 });

    const search = await call("POST", "/search", { query: "fish", nResults: 50, where: { topic: "fish" } });
    expect(search.body.results).toEqual([]);
  });
});

describe("collections", () => {
  it("create, list, delete", async () => {
    const created = await call("POST", "/collections", { name: "notes.v2" });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ name: "notes.v2", model: "hash", dimension: 64, count: 0 });

    const again = await call("POST", "/collections", { name: "notes.v2" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("CONFLICT");

    const embedded = await call("POST", "/embed", {
      collection: "notes.v2",
      ids: ["a", "b"],
      documents: ["x", "y"],
    });
    expect(embedded.body).toMatchObject({ collection: "notes.v2", count: 2 });

    const list = await call("GET", "/collections");
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      { name: "default", model: "hash", dimension: 64, count: 747 },
      { name: "notes.v2", model: "hash", dimension: 64, count: 2 },
    ]);

    const removed = await call("DELETE", "/collections/notes.v2");
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ name: "notes.v2", deleted: true, documents: 2 });
    expect((await call("DELETE", "/collections/notes.v2")).status).toBe(404);
    expect((await call("GET", "/collections")).body.map((c: { name: string }) => c.name)).toEqual([
      "default",
    ]);
  });

  it("precomputed vectors create a collection on first embed", async () => {
    const { vectors } = await instance.provider.embed(["one", "two", "three"]);
    const res = await call("POST", "/embed", {
      collection: "vectors",
      ids: ["1", "2", "3"],
      embeddings: vectors,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ collection: "vectors", upserted: 3, dimension: 64, count: 3, truncated: [] });
    const search = await call("POST", "/search", {
      collection: "vectors",
      queryEmbedding: vectors[1],
      nResults: 3,
    });
    expect(search.body.results[0]).toMatchObject({ id: "2", document: null, metadata: null });
    await call("DELETE", "/collections/vectors");
  });
});

describe("open routes", () => {
  it("healthz says only whether it is alive without a token; config, Chroma and counts with one", async () => {
    const open = await instanceApi(instance.url, "GET", "/healthz");
    expect(open.status).toBe(200);
    expect(open.body).toEqual({ status: "ok" });
    const res = await instanceApi(instance.url, "GET", "/healthz", { token: await instance.token(["read"]) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "ok",
      tenantId: instance.config.TENANT_ID,
      plan: "enterprise",
      model: "hash",
      dimension: 64,
      maxDocs: 5_000,
      chroma: { heartbeat: true, version: "1.0.0" },
      counts: { collections: 1, documents: 747 },
    });
    expect(res.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
  });

  it("serves its OpenAPI document and docs page", async () => {
    const spec = await instanceApi(instance.url, "GET", "/openapi.json");
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining([
        "/embed",
        "/search",
        "/delete",
        "/healthz",
        "/collections",
        "/collections/{name}",
      ]),
    );
    expect(spec.body.paths["/embed"].post.security).toEqual([{ bearer: [] }]);
    const docsPage = await fetch(`${instance.url}/docs`);
    expect(docsPage.status).toBe(200);
    expect(await docsPage.text()).toContain("SwaggerUIBundle");
    const asset = await fetch(`${instance.url}/docs/assets/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");
  });

  it("echoes a sane X-Request-Id", async () => {
    const res = await instanceApi(instance.url, "GET", "/healthz", {
      headers: { "x-request-id": "trace-123" },
    });
    expect(res.headers.get("x-request-id")).toBe("trace-123");
  });
});
