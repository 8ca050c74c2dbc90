import { createTRPCClient, httpSubscriptionLink } from "@trpc/client";
import type { Instance } from "@vdb/schemas/instances";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenant, startTestServer, type TestServer } from "../testing";
import { api, trpcAs, trpcLiveAs, userWithSession, watchUntil } from "../testing/http";
import type { AppRouter } from "../trpc/router";

let server: TestServer;
let tenantId: string;
let otherTenantId: string;

beforeAll(async () => {
  server = await startTestServer();
  tenantId = (await seedTenant(server.services, "console-search")).id;
  otherTenantId = (await seedTenant(server.services, "console-other")).id;
  const live = trpcLiveAs(server.url, server.adminToken);
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await watchUntil(live, tenantId, (instance) => instance?.state === "running");
  const embedded = await api(server.url, "POST", `/embed?tenantId=${tenantId}`, {
    token: server.adminToken,
    body: {
      ids: ["cats", "dogs", "tax"],
      documents: [
        "Cats purr and sleep all day.",
        "Dogs bark at the mail carrier.",
        "Taxes are due in April.",
      ],
      metadatas: [{ topic: "pets" }, { topic: "pets" }, { topic: "money" }],
    },
  });
  expect(embedded.status).toBe(200);
});

afterAll(async () => {
  await server?.close();
});

describe("dataPlane.search (the console's search playground)", () => {
  it("searches the named tenant's instance with a session, filters by metadata and meters the search", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const result = await client.dataPlane.search.query({
      tenantId,
      request: { query: "cats purr", nResults: 5, where: { topic: "pets" } },
    });
    expect(result.collection).toBe("default");
    expect(result.results.map((hit) => hit.id).sort()).toEqual(["cats", "dogs"]);
    expect(result.results[0]).toMatchObject({ id: "cats", metadata: { topic: "pets" } });
    expect(typeof result.results[0]?.distance).toBe("number");
    await server.services.usage.flush();
    const usage = await client.usage.get.query({ tenantId, kinds: ["search"] });
    expect(usage.totals.search).toBeGreaterThanOrEqual(1);
  });

  it("meters each search once, whichever surface sent it; a refused search and a chat question's retrieval none", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const searches = async () => {
      await server.services.usage.flush();
      return (await client.usage.get.query({ tenantId, kinds: ["search"] })).totals.search ?? 0;
    };
    const rest = (body: object) =>
      api(server.url, "POST", `/search?tenantId=${tenantId}`, { token: server.adminToken, body });
    const before = await searches();
    expect((await rest({ query: "cats" })).status).toBe(200);
    expect(await searches()).toBe(before + 1);
    await client.dataPlane.search.query({ tenantId, request: { query: "cats" } });
    expect(await searches()).toBe(before + 2);
    const refused = await rest({ query: "cats", collection: "no-such-collection" });
    expect(refused.status).toBe(404);
    // Chroma's own query through the gateway, as the stock clients send it, with an API key.
    const key = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
      token: server.adminToken,
      body: { name: "gateway", scopes: ["read"] },
    });
    expect(key.status).toBe(201);
    const chroma = `${server.url}/api/v2/tenants/default_tenant/databases/default_database`;
    const headers = { "x-chroma-token": key.body.secret, "content-type": "application/json" };
    const collection = (await (await fetch(`${chroma}/collections/default`, { headers })).json()) as {
      id: string;
    };
    const queried = await fetch(`${chroma}/collections/${collection.id}/query`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query_embeddings: [Array.from({ length: 64 }, () => 1)], n_results: 1 }),
    });
    expect(queried.status).toBe(200);
    expect(await searches()).toBe(before + 3);
    const asked = await client.chat.ask.mutate({ tenantId, message: "Do cats purr?" });
    expect(asked.citations.length).toBeGreaterThan(0);
    expect(await searches()).toBe(before + 3);
  });

  it("searches in each mode over REST and tRPC; hybrid by default; a query vector only by vector", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const rest = (body: object) =>
      api(server.url, "POST", `/search?tenantId=${tenantId}`, { token: server.adminToken, body });
    // "mail" is only in one document: keyword search finds it alone, with its BM25 score.
    const keyword = await rest({ query: "mail", mode: "keyword" });
    expect(keyword.status).toBe(200);
    expect(keyword.body.mode).toBe("keyword");
    expect(keyword.body.results).toEqual([
      expect.objectContaining({ id: "dogs", score: expect.any(Number), ranks: { keyword: 1 } }),
    ]);
    const hybrid = await client.dataPlane.search.query({ tenantId, request: { query: "mail", nResults: 3 } });
    expect(hybrid.mode).toBe("hybrid");
    expect(hybrid.results).toHaveLength(3);
    expect(hybrid.results[0]).toMatchObject({ id: "dogs", ranks: { keyword: 1 } });
    const vector = await client.dataPlane.search.query({
      tenantId,
      request: { query: "mail", mode: "vector", nResults: 3, where: { topic: "money" } },
    });
    expect(vector.mode).toBe("vector");
    expect(vector.results.map((hit) => hit.id)).toEqual(["tax"]);
    const filteredKeyword = await rest({ query: "mail", mode: "keyword", where: { topic: "money" } });
    expect(filteredKeyword.body.results).toEqual([]);

    const queryEmbedding = Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0));
    expect((await rest({ queryEmbedding, nResults: 1 })).body.mode).toBe("vector");
    const refused = await rest({ queryEmbedding, mode: "hybrid" });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: "VALIDATION_FAILED",
      message: expect.stringMatching(/need a query text/),
    });
    const refusedOverTrpc = await client.dataPlane.search
      .query({ tenantId, request: { queryEmbedding, mode: "keyword" } })
      .catch((error: unknown) => error);
    expect(refusedOverTrpc).toMatchObject({ data: { code: "BAD_REQUEST" } });
  });

  it("answers the instance's own error for a collection that does not exist", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const refused = await client.dataPlane.search
      .query({ tenantId, request: { query: "x", collection: "missing-one" } })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ data: { appCode: "NOT_FOUND" } });
  });

  it("refuses a filter with an unknown operator before calling the instance", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const refused = await client.dataPlane.search
      .query({ tenantId, request: { query: "x", where: { $nope: 1 } } })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ data: { code: "BAD_REQUEST" } });
  });

  it("lists the instance's collections with their record counts", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const collections = await client.dataPlane.collections.query({ tenantId });
    expect(collections).toEqual([expect.objectContaining({ name: "default", count: 3, model: "hash" })]);
  });

  it("a tenant without an instance gets a clear CONFLICT", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const refused = await client.dataPlane.collections
      .query({ tenantId: otherTenantId })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ data: { appCode: "CONFLICT" } });
  });

  it("a user of another tenant cannot search this one", async () => {
    const { userId, token } = await userWithSession(server.url, server.adminToken, "outsider@vdb.test");
    const member = await api(server.url, "PUT", `/tenants/${otherTenantId}/members/${userId}`, {
      token: server.adminToken,
      body: { role: "admin" },
    });
    expect(member.status).toBe(200);
    const refused = await trpcAs(server.url, token)
      .dataPlane.search.query({ tenantId, request: { query: "cats" } })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ data: { appCode: "FORBIDDEN" } });
  });
});

describe("subscriptions authenticated by connectionParams (a browser's EventSource sends no headers)", () => {
  function browserLikeClient(token: string) {
    return createTRPCClient<AppRouter>({
      links: [
        httpSubscriptionLink({ url: `${server.url}/trpc`, EventSource, connectionParams: () => ({ token }) }),
      ],
    });
  }

  it("streams the instance's status with the session token in connectionParams", async () => {
    const client = browserLikeClient(server.adminToken);
    const first = await new Promise<Instance | null>((resolve, reject) => {
      const subscription = client.instances.onStatus.subscribe(
        { tenantId },
        {
          onData: (instance) => {
            subscription.unsubscribe();
            resolve(instance);
          },
          onError: reject,
        },
      );
    });
    expect(first).toMatchObject({ tenantId, state: "running" });
  });

  it("a logged-out token in connectionParams is refused", async () => {
    const client = browserLikeClient("vdbs_not-a-real-session");
    const error = await new Promise<unknown>((resolve) => {
      const subscription = client.instances.onStatus.subscribe(
        { tenantId },
        {
          onData: () => {
            subscription.unsubscribe();
            resolve(new Error("got data"));
          },
          onError: (failure) => {
            subscription.unsubscribe();
            resolve(failure);
          },
        },
      );
    });
    expect(error).toMatchObject({ data: { appCode: "UNAUTHORIZED" } });
  });
});
