import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcLiveAs, watchUntil } from "../testing/http";

/** The snippet from the README, as a user would write it. */
function chromaFor(server: TestServer, apiKey: string) {
  const { hostname, port } = new URL(server.url);
  return new ChromaClient({ host: hostname, port: Number(port), headers: { "x-chroma-token": apiKey } });
}

const vector = (seed: number) => Array.from({ length: 8 }, (_, i) => Math.sin(seed * 7 + i));

describe("the stock chromadb client against the gateway", () => {
  let server: TestServer;
  const keys: Record<"a" | "b" | "aRead", string> = { a: "", b: "", aRead: "" };
  beforeAll(async () => {
    server = await startTestServer();
    const live = trpcLiveAs(server.url, server.adminToken);
    for (const slug of ["gw-a", "gw-b"] as const) {
      const tenant = await api(server.url, "POST", "/tenants", {
        token: server.adminToken,
        body: { slug, name: slug, plan: "pro" },
      });
      const key = await api(server.url, "POST", `/tenants/${tenant.body.id}/keys`, {
        token: server.adminToken,
        body: { name: "chroma", scopes: ["write"] },
      });
      keys[slug === "gw-a" ? "a" : "b"] = key.body.secret;
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
  });
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
    await expect(b.getCollection({ name: "a-private" })).rejects.toThrow();
    const intruder = await b.createCollection({ name: "a-private", embeddingFunction: null });
    expect(await intruder.count()).toBe(0);
    expect(await secret.count()).toBe(1);
  });

  it("refuses a read key's writes, a missing or foreign key, and Chroma admin calls", async () => {
    const writer = chromaFor(server, keys.a);
    const collection = await writer.createCollection({ name: "guarded", embeddingFunction: null });
    const reader = await chromaFor(server, keys.aRead).getCollection({ name: "guarded" });
    await expect(reader.add({ ids: ["x"], embeddings: [vector(1)] })).rejects.toThrow();
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
});
