import type { AuditEntry } from "@vdb/schemas/audit";
import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, launchUntilRunning, memberWithSession, tenantWithKey, trpcAs } from "../testing/http";

let server: TestServer;
let tenantId: string;
let key: string;

beforeAll(async () => {
  server = await startTestServer();
  ({ tenantId, key } = await tenantWithKey(server.url, server.adminToken, "records-browse"));
  await launchUntilRunning(server.url, server.adminToken, tenantId);
  const embedded = await api(server.url, "POST", "/embed", {
    token: key,
    body: {
      ids: Array.from({ length: 25 }, (_, i) => `note-${String(i).padStart(2, "0")}`),
      documents: Array.from({ length: 25 }, (_, i) => `Note number ${i}`),
      metadatas: Array.from({ length: 25 }, (_, i) => ({ team: i % 5 === 0 ? "red" : "blue", n: i })),
    },
  });
  expect(embedded.status).toBe(200);
}, 300_000);
afterAll(async () => server?.close());

describe("browsing a tenant's records", () => {
  it("pages through a collection, gets by id and filters by metadata over REST", async () => {
    const records = (body: object) => api(server.url, "POST", "/records", { token: key, body });
    const first = await records({ limit: 10 });
    expect(first.status).toBe(200);
    expect(first.body.count).toBe(25);
    expect(first.body.records).toHaveLength(10);
    const third = await records({ limit: 10, offset: 20 });
    expect(third.body.records).toHaveLength(5);
    const seen = new Set([...first.body.records, ...third.body.records].map((r: { id: string }) => r.id));
    expect(seen.size).toBe(15);
    const byId = await records({ ids: ["note-07"] });
    expect(byId.body.records).toEqual([
      { id: "note-07", document: "Note number 7", metadata: { team: "blue", n: 7 } },
    ]);
    const red = await records({ where: { team: "red" }, limit: 100 });
    expect(red.body.records.map((r: { id: string }) => r.id).sort()).toEqual([
      "note-00",
      "note-05",
      "note-10",
      "note-15",
      "note-20",
    ]);
    const bad = await records({ where: { $bogus: 1 } });
    expect(bad.status).toBe(400);
    const missing = await records({ collection: "no-such-thing" });
    expect(missing.status).toBe(404);
  });

  it("shows a record written with the stock chromadb client through the gateway", async () => {
    const { hostname, port } = new URL(server.url);
    const chroma = new ChromaClient({
      host: hostname,
      port: Number(port),
      headers: { "x-chroma-token": key },
    });
    const collection = await chroma.getOrCreateCollection({ name: "from-gateway", embeddingFunction: null });
    await collection.add({
      ids: ["gw-1"],
      embeddings: [Array.from({ length: 8 }, (_, i) => i / 8)],
      documents: ["Written by chromadb"],
      metadatas: [{ source: "gateway" }],
    });
    const client = trpcAs(server.url, server.adminToken);
    const collections = await client.dataPlane.collections.query({ tenantId });
    expect(collections.find((c) => c.name === "from-gateway")?.count).toBe(1);
    const page = await client.dataPlane.records.query({ tenantId, request: { collection: "from-gateway" } });
    expect(page.records).toEqual([
      { id: "gw-1", document: "Written by chromadb", metadata: { source: "gateway" } },
    ]);
  });

  it("deletes from the console with an audit entry; viewers and other tenants cannot", async () => {
    const viewer = await memberWithSession(
      server.url,
      server.adminToken,
      tenantId,
      "viewer@records.test",
      "viewer",
    );
    const asViewer = trpcAs(server.url, viewer.token);
    expect(
      (await asViewer.dataPlane.records.query({ tenantId, request: { limit: 1 } })).records,
    ).toHaveLength(1);
    await expect(
      asViewer.dataPlane.deleteRecords.mutate({ tenantId, request: { ids: ["note-01"] } }),
    ).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    const other = await tenantWithKey(server.url, server.adminToken, "records-other");
    const foreign = await api(server.url, "POST", `/records?tenantId=${tenantId}`, {
      token: other.key,
      body: {},
    });
    expect(foreign.status).toBe(403);

    const client = trpcAs(server.url, server.adminToken);
    const deleted = await client.dataPlane.deleteRecords.mutate({
      tenantId,
      request: { where: { team: "red" } },
    });
    expect(deleted).toEqual({ collection: "default", deleted: 5, count: 20 });
    const after = await client.dataPlane.records.query({ tenantId, request: { where: { team: "red" } } });
    expect(after.records).toEqual([]);
    const audit = await api<{ items: AuditEntry[] }>(
      server.url,
      "GET",
      `/audit?tenantId=${tenantId}&action=records.delete`,
      { token: server.adminToken },
    );
    expect(audit.body.items[0]).toMatchObject({
      actorName: "admin@vdb.test",
      metadata: { collection: "default", deleted: 5, where: { team: "red" } },
    });
  });
});
