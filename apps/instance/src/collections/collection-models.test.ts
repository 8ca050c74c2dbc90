import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startTestInstance, type TestInstance } from "../testing";

// The instance's default model is hash/64 (see startTestInstance); these collections choose
// their own, as a seed-004 "named database" does.
let instance: TestInstance;
let token: string;
const call = (method: string, path: string, body?: unknown) =>
  instanceApi(instance.url, method, path, { token, body });

beforeAll(async () => {
  instance = await startTestInstance({ env: { MAX_DOCS: "1000" } });
  token = await instance.token(["write"]);
});
afterAll(async () => instance?.close());

describe("a collection with its own embedding model", () => {
  it("records the chosen model and dimension, and embeds and searches with it", async () => {
    const created = await call("POST", "/collections", { name: "wide-hash", model: "hash", dimension: 128 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({ name: "wide-hash", model: "hash", dimension: 128, count: 0 });

    const embedded = await call("POST", "/embed", {
      collection: "wide-hash",
      ids: ["a", "b"],
      documents: ["the cat sat on the mat", "stock markets fell sharply"],
    });
    expect(embedded.status, JSON.stringify(embedded.body)).toBe(200);
    expect(embedded.body).toMatchObject({ dimension: 128, count: 2 });

    const found = await call("POST", "/search", {
      collection: "wide-hash",
      query: "the cat sat on the mat",
      nResults: 1,
      include: ["embeddings", "documents"],
    });
    expect(found.status).toBe(200);
    expect(found.body.results[0]).toMatchObject({ id: "a", document: "the cat sat on the mat" });
    expect(found.body.results[0].embedding).toHaveLength(128);

    // The default collection still uses the instance's own 64-d model.
    const other = await call("POST", "/embed", { ids: ["c"], documents: ["hello"] });
    expect(other.body).toMatchObject({ collection: "default", dimension: 64 });

    const listed = await call("GET", "/collections");
    expect(listed.body).toEqual(
      expect.arrayContaining([
        { name: "wide-hash", model: "hash", dimension: 128, count: 2 },
        { name: "default", model: "hash", dimension: 64, count: 1 },
      ]),
    );
  });

  it("refuses a model the instance cannot run, a wrong dimension, and creates nothing", async () => {
    const cases = [
      [{ name: "needs-key", model: "openai:text-embedding-3-small", dimension: 1536 }, /OpenAI key/],
      [{ name: "foreign-dir", model: "transformers:/etc" }, /not this instance's/],
      [{ name: "bad-dim", model: "use-lite", dimension: 100 }, /512-d/],
    ] as const;
    for (const [body, message] of cases) {
      const res = await call("POST", "/collections", body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe("BAD_REQUEST");
      expect(res.body.error.message).toMatch(message);
    }
    const unknown = await call("POST", "/collections", { name: "made-up", model: "word2vec" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("VALIDATION_FAILED");

    const listed = await call("GET", "/collections");
    const names = listed.body.map((collection: { name: string }) => collection.name);
    for (const name of ["needs-key", "foreign-dir", "bad-dim", "made-up"]) expect(names).not.toContain(name);
  });

  it("reports the models collections may use in /healthz", async () => {
    const res = await instanceApi(instance.url, "GET", "/healthz", { token: await instance.token(["read"]) });
    expect(res.body.models).toEqual(expect.arrayContaining(["hash", "use-lite"]));
    expect(res.body.models).not.toContain("openai:<model>");
  });
});
