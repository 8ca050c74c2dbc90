import { availableParallelism } from "node:os";
import { createEmbeddingProvider } from "@vdb/embeddings/create-provider";
import type { EmbeddingProvider } from "@vdb/embeddings/provider";
import { FAILING_WORKER_FILE } from "@vdb/embeddings/testing";
import { createWorkerPoolProvider } from "@vdb/embeddings/worker-pool";
import { newId } from "@vdb/schemas/ids";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadInstanceConfig } from "../config";
import { instanceApi, startChroma, startTestInstance, type TestChroma, type TestInstance } from "../testing";

// The real use-lite model in real worker threads, a real Chroma, the instance over HTTP.

let chroma: TestChroma;
beforeAll(async () => {
  chroma = await startChroma();
});
afterAll(async () => chroma?.stop());

const note = (index: number) =>
  `Note ${index}: ${["cats", "invoices", "rain", "football", "bread"][index % 5]}, who to ask and which form to file`;

/** The pool, telling the test when a bulk batch has reached it (i.e. is being embedded). */
function observed(provider: EmbeddingProvider) {
  let batchArrived: () => void = () => {};
  const batchStarted = new Promise<void>((resolve) => {
    batchArrived = resolve;
  });
  const wrapper: EmbeddingProvider = {
    name: provider.name,
    dimension: provider.dimension,
    maxInputTokens: provider.maxInputTokens,
    embed(texts, options) {
      const result = provider.embed(texts, options);
      if (options?.priority !== "query" && texts.length > 100) batchArrived();
      return result;
    },
  };
  return { wrapper, batchStarted };
}

describe("embedding in worker threads (use-lite)", () => {
  let instance: TestInstance;
  let token: string;
  let pool: EmbeddingProvider;
  let batchStarted: Promise<void>;
  const call = (method: string, path: string, body?: unknown) =>
    instanceApi(instance.url, method, path, { token, body });

  beforeAll(async () => {
    pool = createEmbeddingProvider({ model: "use-lite", workers: 2 });
    const seen = observed(pool);
    batchStarted = seen.batchStarted;
    instance = await startTestInstance({
      chromaUrl: chroma.url,
      env: { MODEL_NAME: "use-lite", DIMENSION: "512", EMBED_WORKERS: "2" },
      provider: seen.wrapper,
    });
    token = await instance.token(["write"]);
    const seed = await call("POST", "/embed", { ids: ["seed-1", "seed-2"], documents: [note(1), note(2)] });
    expect(seed.status, JSON.stringify(seed.body)).toBe(200);
  });
  afterAll(async () => {
    await instance?.close();
    await pool?.close?.();
  });

  it("answers /healthz and a search while it embeds a large batch, before the batch completes", async () => {
    const order: string[] = [];
    // Large enough for many tasks on both workers (a few seconds of use-lite), over the 100 that
    // `observed` counts as a batch.
    const ids = Array.from({ length: 160 }, (_, index) => `bulk-${index}`);
    const batch = call("POST", "/embed", { ids, documents: ids.map((_, index) => note(index)) }).then(
      (res) => {
        order.push("batch");
        return res;
      },
    );
    await batchStarted;
    const health = instanceApi(instance.url, "GET", "/healthz").then((res) => {
      order.push("healthz");
      return res;
    });
    const search = call("POST", "/search", { query: "which form for invoices?", nResults: 2 }).then((res) => {
      order.push("search");
      return res;
    });
    const [healthRes, searchRes] = await Promise.all([health, search]);
    expect(order).not.toContain("batch");
    expect(healthRes.status).toBe(200);
    expect(healthRes.body.status).toBe("ok");
    expect(searchRes.status).toBe(200);
    expect(searchRes.body.results).toHaveLength(2);
    expect(searchRes.body.queryTruncated).toBe(false);

    const batchRes = await batch;
    expect(batchRes.status, JSON.stringify(batchRes.body)).toBe(200);
    expect(batchRes.body).toMatchObject({ upserted: 160, count: 162, truncated: [] });
    expect(order.at(-1)).toBe("batch");
  });

  it("stores a text longer than the model's window whole, embeds its first 128 tokens and lists its id", async () => {
    const long = Array.from({ length: 2_000 }, (_, index) => note(index))
      .join(" ")
      .slice(0, 100_000);
    expect(long).toHaveLength(100_000);
    const res = await call("POST", "/embed", {
      collection: "long",
      ids: ["short", "long"],
      documents: ["a short note about rain", long],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ upserted: 2, truncated: ["long"] });

    // Found by what its first tokens say, with the whole text stored.
    const found = await call("POST", "/search", {
      collection: "long",
      query: note(0) + note(1),
      nResults: 1,
    });
    expect(found.body.results[0].id).toBe("long");
    expect(found.body.results[0].document).toBe(long);

    const longQuery = await call("POST", "/search", {
      collection: "long",
      query: long.slice(0, 10_000),
      nResults: 1,
    });
    expect(longQuery.status).toBe(200);
    expect(longQuery.body.queryTruncated).toBe(true);
    // A vector query is never cut: nothing to say.
    const byVector = await call("POST", "/search", {
      collection: "long",
      queryEmbedding: Array.from({ length: 512 }, () => 0.01),
      nResults: 1,
    });
    expect(byVector.status).toBe(200);
    expect(byVector.body).not.toHaveProperty("queryTruncated");
  });
});

describe("a worker thread that fails", () => {
  let instance: TestInstance;
  let token: string;
  const pool = createWorkerPoolProvider({
    provider: { model: "hash", dimension: 2 },
    workers: 2,
    workerFile: FAILING_WORKER_FILE,
  });
  const call = (method: string, path: string, body?: unknown) =>
    instanceApi(instance.url, method, path, { token, body });

  beforeAll(async () => {
    instance = await startTestInstance({
      chromaUrl: chroma.url,
      env: { MODEL_NAME: "hash", DIMENSION: "2", TENANT_ID: newId("tenant") },
      provider: pool,
    });
    token = await instance.token(["write"]);
  });
  afterAll(async () => {
    await instance?.close();
    await pool.close();
  });

  it.each([
    ["throws", "throw", "the model failed on purpose"],
    ["dies", "exit", "worker exited with code: 3"],
  ])(
    "that %s: the request gets a clear 503, nothing is written, and the instance keeps embedding",
    async (_, text, reason) => {
      const collection = `failing-${text}`;
      const failed = await call("POST", "/embed", { collection, ids: ["a", "b"], documents: ["fine", text] });
      expect(failed.status).toBe(503);
      expect(failed.body.error.code).toBe("SERVICE_UNAVAILABLE");
      expect(failed.body.error.message).toContain(
        `The embedding model (hash) failed: hash: the worker thread embedding this request failed (${reason})`,
      );
      expect(failed.body.error.requestId).toBeTruthy();

      const ok = await call("POST", "/embed", { collection, ids: ["c"], documents: ["fine again"] });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body).toMatchObject({ upserted: 1, count: 1 });
      const search = await call("POST", "/search", { collection, query: "fine", nResults: 5 });
      expect(search.body.results.map((hit: { id: string }) => hit.id)).toEqual(["c"]);
    },
  );
});

describe("EMBED_WORKERS", () => {
  const base = {
    TENANT_ID: newId("tenant"),
    JWKS_URL: "http://127.0.0.1:1/.well-known/jwks.json",
    TOKEN_ISSUER: "http://127.0.0.1:1",
  };

  it("defaults to one per core and takes a count from 1 to 64", () => {
    expect(loadInstanceConfig(base).EMBED_WORKERS).toBe(availableParallelism());
    expect(loadInstanceConfig({ ...base, EMBED_WORKERS: "1" }).EMBED_WORKERS).toBe(1);
    expect(loadInstanceConfig({ ...base, EMBED_WORKERS: "64" }).EMBED_WORKERS).toBe(64);
  });

  it.each(["0", "-2", "1.5", "many", "65"])("refuses %j, naming the variable", (value) => {
    expect(() => loadInstanceConfig({ ...base, EMBED_WORKERS: value })).toThrow(/EMBED_WORKERS: /);
  });
});
