import http from "node:http";
import { PLANS } from "@vdb/schemas/plans";
import {
  ChromaClient,
  ChromaClientError,
  ChromaForbiddenError,
  ChromaNotFoundError,
  ChromaQuotaExceededError,
} from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcLiveAs, watchUntil } from "../testing/http";
import { REFERENCE_DIMENSION, REFERENCE_EXTRA_BYTES, safeMaxBatchSize } from "./pre-flight";

/** A control plane and its instances take minutes to start on a loaded shared machine. */
const STARTUP_TIMEOUT_MS = 300_000;

/**
 * POSTs over a connection of its own. Building a 40 MB body holds this process, which is also the
 * control plane's, for seconds: a kept-alive connection may be closing under fetch as it resumes.
 */
function postOnFreshConnection(url: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number }>((resolve, reject) => {
    const request = http.request(url, { agent: false, method: "POST", headers });
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0 }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** The snippet from the README, as a user would write it. */
function chromaFor(server: TestServer, apiKey: string) {
  const { hostname, port } = new URL(server.url);
  return new ChromaClient({ host: hostname, port: Number(port), headers: { "x-chroma-token": apiKey } });
}

const vector = (seed: number, dimension = 8) =>
  Array.from({ length: dimension }, (_, i) => Math.sin(seed * 7 + i));
const NAMESPACE = "/api/v2/tenants/default_tenant/databases/default_database";
/** Written as JSON by JavaScript: -0.000012345678901234568, 24 characters. */
const LONGEST_JSON_NUMBER = -1.2345678901234568e-5;

describe("the stock chromadb client against the gateway", () => {
  let server: TestServer;
  const keys: Record<"a" | "b" | "aRead", string> = { a: "", b: "", aRead: "" };
  const tenantIds = { a: "", b: "" };
  beforeAll(async () => {
    server = await startTestServer();
    const live = trpcLiveAs(server.url, server.adminToken);
    for (const slug of ["gw-a", "gw-b"] as const) {
      const tenant = await api(server.url, "POST", "/tenants", {
        token: server.adminToken,
        // gw-b is on the starter plan, whose document quota a test fills.
        body: { slug, name: slug, plan: slug === "gw-a" ? "pro" : "starter" },
      });
      const key = await api(server.url, "POST", `/tenants/${tenant.body.id}/keys`, {
        token: server.adminToken,
        body: { name: "chroma", scopes: ["write"] },
      });
      keys[slug === "gw-a" ? "a" : "b"] = key.body.secret;
      tenantIds[slug === "gw-a" ? "a" : "b"] = tenant.body.id;
      if (slug === "gw-a") {
        const reader = await api(server.url, "POST", `/tenants/${tenant.body.id}/keys`, {
          token: server.adminToken,
          body: { name: "reader", scopes: ["read"] },
        });
        keys.aRead = reader.body.secret;
      }
      await api(server.url, "POST", "/launch", {
        token: server.adminToken,
        body: { tenantId: tenant.body.id },
      });
      await watchUntil(live, tenant.body.id, (instance) => instance?.state === "running");
    }
  }, STARTUP_TIMEOUT_MS);
  afterAll(async () => server?.close());

  it("creates, lists, gets and deletes collections; adds, upserts, gets, queries, counts and deletes records", async () => {
    const chroma = chromaFor(server, keys.a);
    expect(await chroma.heartbeat()).toEqual(expect.any(Number));
    const collection = await chroma.getOrCreateCollection({ name: "gw-docs", embeddingFunction: null });
    await collection.add({
      ids: ["1", "2", "3"],
      embeddings: [vector(1), vector(2), vector(3)],
      documents: ["one", "two", "three"],
      metadatas: [{ n: 1 }, { n: 2 }, { n: 3 }],
    });
    await collection.upsert({
      ids: ["3", "4"],
      embeddings: [vector(3), vector(4)],
      documents: ["THREE", "four"],
    });
    expect(await collection.count()).toBe(4);

    const got = await collection.get({ ids: ["3"] });
    expect(got.documents).toEqual(["THREE"]);
    const near = await collection.query({
      queryEmbeddings: [vector(2)],
      nResults: 2,
      where: { n: { $gte: 2 } },
    });
    expect(near.ids[0]?.[0]).toBe("2");

    await collection.delete({ ids: ["1"] });
    expect(await collection.count()).toBe(3);
    expect((await chroma.listCollections()).map((c) => c.name)).toEqual(["gw-docs"]);
    expect((await chroma.getCollection({ name: "gw-docs" })).id).toBe(collection.id);
    await chroma.deleteCollection({ name: "gw-docs" });
    expect(await chroma.listCollections()).toEqual([]);
  });

  it("a key only ever sees its own tenant's collections", async () => {
    const a = chromaFor(server, keys.a);
    const b = chromaFor(server, keys.b);
    const secret = await a.createCollection({ name: "a-private", embeddingFunction: null });
    await secret.add({ ids: ["s"], embeddings: [vector(9)], documents: ["a's secret"] });

    expect((await b.listCollections()).map((c) => c.name)).not.toContain("a-private");
    await expect(b.getCollection({ name: "a-private" })).rejects.toBeInstanceOf(ChromaNotFoundError);
    const intruder = await b.createCollection({ name: "a-private", embeddingFunction: null });
    expect(await intruder.count()).toBe(0);
    expect(await secret.count()).toBe(1);
  });

  it("refuses a read key's writes, a missing or foreign key, and Chroma admin calls", async () => {
    const writer = chromaFor(server, keys.a);
    const collection = await writer.createCollection({ name: "guarded", embeddingFunction: null });
    const reader = await chromaFor(server, keys.aRead).getCollection({ name: "guarded" });
    await expect(reader.add({ ids: ["x"], embeddings: [vector(1)] })).rejects.toBeInstanceOf(
      ChromaForbiddenError,
    );
    expect(await collection.count()).toBe(0);
    expect(await reader.count()).toBe(0);

    const headers = { "x-chroma-token": keys.a, "content-type": "application/json" };
    for (const [method, path] of [
      ["POST", "/api/v2/reset"],
      ["POST", "/api/v2/tenants"],
      ["GET", "/api/v2/tenants/other/databases/default_database/collections"],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers,
        body: method === "POST" ? "{}" : undefined,
      });
      expect(response.status).toBe(403);
    }
    const anonymous = await fetch(
      `${server.url}/api/v2/tenants/default_tenant/databases/default_database/collections`,
    );
    expect(anonymous.status).toBe(401);
    const session = await fetch(`${server.url}/api/v2/heartbeat`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(session.status).toBe(401);
  });

  it("takes the JS client's batch of 500 records at 1536-d with 200-character documents", async () => {
    const collection = await chromaFor(server, keys.a).createCollection({
      name: "wide",
      embeddingFunction: null,
    });
    const ids = Array.from({ length: 500 }, (_, i) => `wide-${i}`);
    await collection.add({
      ids,
      embeddings: ids.map((_, i) => vector(i, 1536)),
      documents: ids.map((id) => id.padEnd(200, ".")),
      metadatas: ids.map((_, i) => ({ i })),
    });
    expect(await collection.count()).toBe(500);
    const near = await collection.query({ queryEmbeddings: [vector(7, 1536)], nResults: 1 });
    expect(near.ids[0]).toEqual(["wide-7"]);
    expect(near.documents[0]?.[0]).toBe("wide-7".padEnd(200, "."));
  });

  it("answers pre-flight with a batch size its body limit takes, in the JSON numbers the Python client sends", async () => {
    const headers = { "x-chroma-token": keys.a, "content-type": "application/json" };
    const preFlight = await fetch(`${server.url}/api/v2/pre-flight-checks`, { headers });
    const checks = (await preFlight.json()) as { max_batch_size: number; supports_base64_encoding?: boolean };
    const expected = safeMaxBatchSize({
      chromaMaxBatchSize: 5461,
      maxBodyBytes: server.config.GATEWAY_MAX_BODY_BYTES,
      planMaxRecords: PLANS.pro.maxRecords,
    });
    expect(checks).toMatchObject({ max_batch_size: expected, supports_base64_encoding: true });

    // That many reference records, every number at its longest: about 40 MB, streamed through.
    const collection = await chromaFor(server, keys.a).createCollection({
      name: "reference",
      embeddingFunction: null,
    });
    const ids = Array.from({ length: checks.max_batch_size }, (_, i) => `ref-${i}`);
    const body = JSON.stringify({
      ids,
      embeddings: ids.map(() => Array.from({ length: REFERENCE_DIMENSION }, () => LONGEST_JSON_NUMBER)),
      documents: ids.map(() => "d".repeat(REFERENCE_EXTRA_BYTES - 64)),
    });
    expect(Buffer.byteLength(body)).toBeGreaterThan(server.config.GATEWAY_MAX_BODY_BYTES * 0.9);
    // Building it held this process (the control plane's too) for a while: its health probe of
    // the instance may have timed out meanwhile, which marks the instance starting until the next.
    await watchUntil(trpcLiveAs(server.url, server.adminToken), tenantIds.a, (i) => i?.state === "running");
    const added = await postOnFreshConnection(
      `${server.url}${NAMESPACE}/collections/${collection.id}/add`,
      headers,
      body,
    );
    expect(added.status).toBeLessThan(300);
    expect(await collection.count()).toBe(checks.max_batch_size);
  });

  it("refuses n_results 0 as invalid input (a 4xx the client raises as such), not a 503", async () => {
    const collection = await chromaFor(server, keys.a).getOrCreateCollection({
      name: "zero",
      embeddingFunction: null,
    });
    await collection.add({ ids: ["1"], embeddings: [vector(1)] });
    const refusal = await collection
      .query({ queryEmbeddings: [vector(1)], nResults: 0 })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ChromaClientError);
    expect((refusal as Error).message).toContain("n_results: must be at least 1");
    const raw = await fetch(`${server.url}${NAMESPACE}/collections/${collection.id}/query`, {
      method: "POST",
      headers: { "x-chroma-token": keys.a, "content-type": "application/json" },
      body: JSON.stringify({ query_embeddings: [vector(1)], n_results: 0 }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ error: "InvalidArgumentError" });
  });

  it("refuses a streamed batch with a NUL in its last document (400 in Chroma's shape), writing nothing", async () => {
    const collection = await chromaFor(server, keys.a).createCollection({
      name: "hygiene",
      embeddingFunction: null,
    });
    const documents = Array.from({ length: 300 }, (_, i) => `${"x".repeat(1_000)} ${i}`);
    documents[299] = "bad\u0000";
    // Past the gateway's 64 KiB buffered size: checked as it streams to the instance.
    const body = JSON.stringify({
      ids: documents.map((_, i) => String(i)),
      embeddings: documents.map((_, i) => vector(i)),
      documents,
    });
    expect(body.length).toBeGreaterThan(64 * 1024);
    const refused = await fetch(`${server.url}${NAMESPACE}/collections/${collection.id}/add`, {
      method: "POST",
      headers: { "x-chroma-token": keys.a, "content-type": "application/json" },
      body,
    });
    expect(refused.status).toBe(400);
    const answer = (await refused.json()) as { error: string; message: string };
    expect(answer.error).toBe("InvalidArgumentError");
    expect(answer.message).toContain("documents.299");
    expect(await collection.count()).toBe(0);
  });

  it("past the plan's document quota: ChromaQuotaExceededError with VDB's message, nothing written", async () => {
    const chroma = chromaFor(server, keys.b);
    const collection = await chroma.createCollection({ name: "full", embeddingFunction: null });
    const quota = PLANS.starter.maxRecords;
    const headers = { "x-chroma-token": keys.b, "content-type": "application/json" };
    for (let start = 0; start < quota; start += 2_500) {
      const ids = Array.from({ length: Math.min(2_500, quota - start) }, (_, i) => `fill-${start + i}`);
      const filled = await fetch(`${server.url}${NAMESPACE}/collections/${collection.id}/add`, {
        method: "POST",
        headers,
        body: JSON.stringify({ ids, embeddings: ids.map((_, i) => vector(start + i)) }),
      });
      expect(filled.status).toBeLessThan(300);
    }
    const refusal = await collection
      .add({ ids: ["one-more"], embeddings: [vector(1)] })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ChromaQuotaExceededError);
    expect((refusal as Error).message).toMatch(
      new RegExp(`^Quota exceeded: This instance holds ${quota} of at most ${quota} records`),
    );
    expect(await collection.count()).toBe(quota);
  });
});
