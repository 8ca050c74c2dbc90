import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcLiveAs, watchUntil } from "../testing/http";

/**
 * Issue 14: every write path of the platform, followed by a keyword search through the public
 * API, finds the record it wrote (or no longer finds the one it removed or replaced). The
 * instance's own paths (`/embed`, `/delete` by ids and by filter, collection deletes, the Chroma
 * passthrough, rebuilds after a crash) are covered in `apps/instance/src/keyword`; these are the
 * control plane's: document ingestion, re-ingestion, document deletes, database deletes and the
 * Chroma-compatible gateway.
 *
 * A keyword search is unfiltered (a filter is checked against Chroma and would hide a stale
 * index) and reads the record's text, so a record that is still there but whose words changed is
 * caught.
 */

/** A control plane and its instance take minutes to start on a loaded shared machine. */
const STARTUP_TIMEOUT_MS = 300_000;

let server: TestServer;
let tenantId: string;
let key: string;

beforeAll(async () => {
  server = await startTestServer();
  const tenant = await api(server.url, "POST", "/tenants", {
    token: server.adminToken,
    body: { slug: "keyword-paths", name: "keyword paths", plan: "pro" },
  });
  tenantId = tenant.body.id;
  key = (
    await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
      token: server.adminToken,
      body: { name: "paths", scopes: ["read", "write"] },
    })
  ).body.secret;
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await watchUntil(
    trpcLiveAs(server.url, server.adminToken),
    tenantId,
    (instance) => instance?.state === "running",
  );
}, STARTUP_TIMEOUT_MS);
afterAll(async () => server?.close());

/** The documents of the hits of a keyword search, `[]` when the collection does not exist. */
async function keywordHits(
  query: string,
  collection = "default",
): Promise<{ id: string; document: string }[]> {
  const res = await api(server.url, "POST", "/search", {
    token: key,
    body: { collection, query, mode: "keyword", nResults: 50 },
  });
  if (res.status === 404) return [];
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.mode).toBe("keyword");
  return res.body.results;
}

/** Polls the document until its ingestion ends; its final state. */
async function settled(documentId: string): Promise<{ status: string; chunkCount: number }> {
  for (;;) {
    const res = await api(server.url, "GET", `/tenants/${tenantId}/documents/${documentId}`, { token: key });
    expect(res.status).toBe(200);
    if (res.body.status === "ready" || res.body.status === "failed") return res.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("keyword search after each write path of the control plane", () => {
  it("document ingestion finds its chunks; deleting the document removes them", async () => {
    const created = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "Okapi notes", text: "The okapi is a giraffid living in the Ituri rainforest." },
    });
    expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
    const documentId = (created.body.document?.id ?? created.body.id) as string;
    expect((await settled(documentId)).status).toBe("ready");
    const found = await keywordHits("okapis");
    expect(found.map((hit) => hit.id)).toEqual([`${documentId}:0`]);

    const deleted = await api(server.url, "DELETE", `/tenants/${tenantId}/documents/${documentId}`, {
      token: key,
    });
    expect(deleted.status).toBe(200);
    expect(await keywordHits("okapi ituri")).toEqual([]);
  });

  it("re-ingesting a changed file replaces its chunks' words, and drops the chunks it no longer has", async () => {
    const first = `${"Aardvarks dig burrows at night. ".repeat(40)}The last part mentions pangolins.`;
    const second = "Armadillos roll into a ball.";
    const started = await api(server.url, "POST", `/tenants/${tenantId}/documents/uploads`, {
      token: key,
      body: {
        filename: "burrowers.txt",
        contentType: "text/plain",
        sizeBytes: first.length,
        chunkSize: 50,
        chunkOverlap: 0,
      },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const { document, upload } = started.body;
    const putAndIngest = async (text: string) => {
      const put = await fetch(upload.url, { method: "PUT", headers: upload.headers, body: text });
      expect(put.status).toBeLessThan(300);
      const queued = await api(server.url, "POST", `/tenants/${tenantId}/documents/${document.id}/ingest`, {
        token: key,
      });
      expect(queued.status, JSON.stringify(queued.body)).toBe(200);
      return settled(document.id);
    };

    const before = await putAndIngest(first);
    expect(before.status).toBe("ready");
    expect(before.chunkCount).toBeGreaterThan(1);
    const pangolins = await keywordHits("pangolin");
    expect(pangolins).toHaveLength(1);
    expect(pangolins[0]!.id).not.toBe(`${document.id}:0`);

    // The upload URL takes the file again (each PUT replaces it): a shorter one, one chunk.
    const after = await putAndIngest(second);
    expect(after).toMatchObject({ status: "ready", chunkCount: 1 });
    expect(await keywordHits("aardvark burrows")).toEqual([]);
    expect(await keywordHits("pangolins")).toEqual([]);
    expect((await keywordHits("armadillo")).map((hit) => hit.id)).toEqual([`${document.id}:0`]);
  });

  it("deleting a named database removes its collection's words; the name reused starts empty", async () => {
    const create = async () =>
      api(server.url, "POST", "/databases", {
        token: key,
        body: { name: "bestiary", model: "hash", dimension: 16 },
      });
    const database = await create();
    expect(database.status, JSON.stringify(database.body)).toBe(201);
    const embedded = await api(server.url, "POST", "/embed", {
      token: key,
      body: { collection: "bestiary", ids: ["q"], documents: ["Quokkas smile on Rottnest island"] },
    });
    expect(embedded.status, JSON.stringify(embedded.body)).toBe(200);
    expect((await keywordHits("quokka", "bestiary")).map((hit) => hit.id)).toEqual(["q"]);

    expect((await api(server.url, "DELETE", `/databases/${database.body.id}`, { token: key })).status).toBe(
      200,
    );
    expect(await keywordHits("quokka", "bestiary")).toEqual([]);
    expect((await create()).status).toBe(201);
    expect(await keywordHits("quokka", "bestiary")).toEqual([]);
  });

  it("the Chroma-compatible gateway's add, upsert, update and deletes keep keyword search in step", async () => {
    const { hostname, port } = new URL(server.url);
    const chroma = new ChromaClient({
      host: hostname,
      port: Number(port),
      headers: { "x-chroma-token": key },
    });
    const collection = await chroma.createCollection({ name: "gateway-words", embeddingFunction: null });
    const vector = (seed: number) => Array.from({ length: 8 }, (_, i) => Math.sin(seed * 7 + i));
    const ids = async (query: string) => (await keywordHits(query, "gateway-words")).map((hit) => hit.id);

    await collection.add({
      ids: ["t1", "t2"],
      embeddings: [vector(1), vector(2)],
      documents: ["Tapirs browse in the forest", "Wombats dig in the bush"],
      metadatas: [{ kind: "tapir" }, { kind: "wombat" }],
    });
    expect(await ids("tapirs")).toEqual(["t1"]);
    await collection.upsert({ ids: ["t3"], embeddings: [vector(3)], documents: ["Echidnas lay eggs"] });
    expect(await ids("echidna")).toEqual(["t3"]);
    await collection.update({
      ids: ["t1"],
      embeddings: [vector(4)],
      documents: ["Sloths hang in the canopy"],
    });
    expect(await ids("tapir")).toEqual([]);
    expect(await ids("sloth")).toEqual(["t1"]);
    await collection.delete({ ids: ["t3"] });
    expect(await ids("echidnas")).toEqual([]);
    await collection.delete({ where: { kind: "wombat" } });
    expect(await ids("wombat")).toEqual([]);
    expect(await ids("sloths canopy wombats echidnas")).toEqual(["t1"]);

    await chroma.deleteCollection({ name: "gateway-words" });
    expect(await ids("sloths")).toEqual([]);
  });
});
