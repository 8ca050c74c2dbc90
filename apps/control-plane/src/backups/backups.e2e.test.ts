import { startChroma } from "@vdb/instance/testing";
import { ExportHeader, ExportLine } from "@vdb/schemas/backups";
import { ChromaClient } from "chromadb";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documents } from "../lib/db/schema";
import { ingestText, startTestServer, type TestServer } from "../testing";
import { api, launchUntilRunning, tenantWithKey, until } from "../testing/http";

/** A control plane and its instances take minutes to start on a loaded shared machine. */
const STARTUP_TIMEOUT_MS = 300_000;
const TEST_TIMEOUT_MS = 180_000;

const TEXTS: [string, string][] = [
  ["Vacation", "Employees get thirty days of paid vacation every year, booked through the portal."],
  ["Expenses", "Travel expenses are reimbursed monthly once the receipts are uploaded."],
  ["Parking", "Parking is free in garage B for staff and visitors with a badge."],
  ["Laptops", "Every new hire receives a laptop on the first day, set up by IT."],
  ["Security", "Badges must be worn at all times; lost badges are reported to security at once."],
  ["Lunch", "The canteen serves lunch from noon to two, with a vegetarian dish daily."],
];
const QUERIES = ["paid vacation days", "laptop for new hires", "where to park", "lost badge"];

let server: TestServer;
let a: { tenantId: string; key: string };
let b: { tenantId: string; key: string };
let aAdminKey: string;

function chromaOf(key: string) {
  const { hostname, port } = new URL(server.url);
  return new ChromaClient({ host: hostname, port: Number(port), headers: { "x-chroma-token": key } });
}

/** Each collection's record count, read from the tenant's Chroma (stock client, through the gateway). */
async function chromaCounts(key: string): Promise<Record<string, number>> {
  const client = chromaOf(key);
  const counts: Record<string, number> = {};
  for (const collection of await client.listCollections()) counts[collection.name] = await collection.count();
  return counts;
}

/** The top 10 of each query: the hit's text and metadata title, and its score. */
async function topTens(tenantId: string, collection = "default") {
  const answers = [];
  for (const query of QUERIES) {
    const reply = await api(server.url, "POST", `/search?tenantId=${tenantId}`, {
      token: server.adminToken,
      body: { query, collection, nResults: 10, mode: "vector" },
    });
    expect(reply.status).toBe(200);
    answers.push(
      reply.body.results.map((hit: { id: string; document: string; distance: number }) => ({
        document: hit.document,
        // Rounded: a restored collection is searched before Chroma has rebuilt its HNSW index
        // (brute force over the log), whose float arithmetic differs in the 7th digit.
        distance: Math.round(hit.distance * 1e5) / 1e5,
      })),
    );
  }
  return answers;
}

async function backUp(tenantId: string, token = server.adminToken) {
  const started = await api(server.url, "POST", `/tenants/${tenantId}/backups`, { token });
  expect(started.status).toBe(202);
  expect(started.body.status).toBe("running");
  return until(
    "the backup to finish",
    async () =>
      (await api(server.url, "GET", `/tenants/${tenantId}/backups/${started.body.id}`, { token })).body,
    (backup) => backup.status !== "running",
    { everyMs: 200 },
  );
}

async function restore(tenantId: string, backupId: string, targetTenantId?: string) {
  const started = await api(server.url, "POST", `/tenants/${tenantId}/backups/${backupId}/restore`, {
    token: server.adminToken,
    body: targetTenantId ? { targetTenantId } : {},
  });
  expect(started.status).toBe(202);
  const target = targetTenantId ?? tenantId;
  return until(
    "the restore to finish",
    async () =>
      (
        await api(server.url, "GET", `/tenants/${target}/restores/${started.body.id}`, {
          token: server.adminToken,
        })
      ).body,
    (job) => job.status !== "queued" && job.status !== "running",
    { everyMs: 200 },
  );
}

beforeAll(async () => {
  server = await startTestServer();
  a = await tenantWithKey(server.url, server.adminToken, "backup-a");
  b = await tenantWithKey(server.url, server.adminToken, "backup-b");
  aAdminKey = (
    await api(server.url, "POST", `/tenants/${a.tenantId}/keys`, {
      token: server.adminToken,
      body: { name: "admin", scopes: ["read", "write", "admin"] },
    })
  ).body.secret;
  await launchUntilRunning(server.url, server.adminToken, a.tenantId);
  await launchUntilRunning(server.url, server.adminToken, b.tenantId);
  // A loaded shared machine can take a while to parse the first document.
  for (const [title, text] of TEXTS) await ingestText(server, a.tenantId, title, text, 240_000);
  // A second collection, written with the stock client and vectors of its own.
  const notes = await chromaOf(a.key).createCollection({ name: "notes", embeddingFunction: null });
  await notes.add({
    ids: ["n1", "n2", "n3"],
    embeddings: [
      [0.1, 0.2, 0.3],
      [0.3, 0.2, 0.1],
      [0.5, 0.5, 0.5],
    ],
    documents: ["first note", "second note", "third note"],
    metadatas: [
      { kind: "note", n: 1 },
      { kind: "note", n: 2 },
      { kind: "note", n: 3 },
    ],
  });
  // What an ingestion records when the embedding model had to cut chunks (a collection made with
  // a model of a shorter window): set on one document, as the ingestion would have.
  await server.services.db
    .update(documents)
    .set({ truncatedChunks: 2 })
    .where(and(eq(documents.tenantId, a.tenantId), eq(documents.title, "Parking")));
}, STARTUP_TIMEOUT_MS);

/** Each document's title and truncated-chunk count, as the documents list shows them. */
async function truncations(tenantId: string): Promise<Record<string, number>> {
  const listed = await api(server.url, "GET", `/tenants/${tenantId}/documents`, { token: server.adminToken });
  return Object.fromEntries(
    listed.body.items.map((doc: { title: string; truncatedChunks: number }) => [
      doc.title,
      doc.truncatedChunks,
    ]),
  );
}
afterAll(async () => server?.close());

describe("backup and restore of a tenant", () => {
  it(
    "backs up, survives the collection's deletion, and restores the same counts and top-10 results",
    async () => {
      const countsBefore = await chromaCounts(a.key);
      expect(countsBefore).toEqual({ default: TEXTS.length, notes: 3 });
      const truncationsBefore = await truncations(a.tenantId);
      expect(truncationsBefore.Parking).toBe(2);
      const resultsBefore = await topTens(a.tenantId);

      const backup = await backUp(a.tenantId);
      expect(backup.status).toBe("completed");
      expect(backup.counts).toEqual({ collections: 2, records: TEXTS.length + 3, documents: 6, chunks: 6 });
      expect(backup.sizeBytes).toBeGreaterThan(0);
      const listed = await api(server.url, "GET", `/tenants/${a.tenantId}/backups`, {
        token: server.adminToken,
      });
      expect(listed.body.items.map((item: { id: string }) => item.id)).toContain(backup.id);

      // One wrong delete: the collection is gone, and a document row too.
      await chromaOf(a.key).deleteCollection({ name: "default" });
      expect(await chromaCounts(a.key)).toEqual({ notes: 3 });
      const docs = await api(server.url, "GET", `/tenants/${a.tenantId}/documents`, {
        token: server.adminToken,
      });
      await api(server.url, "DELETE", `/tenants/${a.tenantId}/documents/${docs.body.items[0].id}`, {
        token: server.adminToken,
      });

      const restored = await restore(a.tenantId, backup.id);
      expect(restored).toMatchObject({ status: "succeeded", lastError: null });
      expect(restored.progress).toEqual({ done: TEXTS.length + 3, total: TEXTS.length + 3 });
      expect(await chromaCounts(a.key)).toEqual(countsBefore);
      expect(await topTens(a.tenantId)).toEqual(resultsBefore);
      const after = await api(server.url, "GET", `/tenants/${a.tenantId}/documents`, {
        token: server.adminToken,
      });
      expect(after.body.items).toHaveLength(TEXTS.length);
      expect(await truncations(a.tenantId)).toEqual(truncationsBefore);
      const notes = await chromaOf(a.key).getCollection({ name: "notes" });
      const note = await notes.get({ ids: ["n1", "n3"], include: ["embeddings", "documents", "metadatas"] });
      expect(note.documents).toEqual(["first note", "third note"]);
      expect(note.metadatas).toEqual([
        { kind: "note", n: 1 },
        { kind: "note", n: 3 },
      ]);
      expect(note.embeddings[0]!.map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0.1, 0.2, 0.3]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "restores into another tenant: same counts and results there, the source untouched",
    async () => {
      const backup = await backUp(a.tenantId);
      const restored = await restore(a.tenantId, backup.id, b.tenantId);
      expect(restored).toMatchObject({ status: "succeeded", lastError: null });
      expect(await chromaCounts(b.key)).toEqual(await chromaCounts(a.key));
      expect(await topTens(b.tenantId)).toEqual(await topTens(a.tenantId));
      const docsB = await api(server.url, "GET", `/tenants/${b.tenantId}/documents`, {
        token: server.adminToken,
      });
      const docsA = await api(server.url, "GET", `/tenants/${a.tenantId}/documents`, {
        token: server.adminToken,
      });
      expect(docsB.body.items.map((doc: { title: string }) => doc.title).sort()).toEqual(
        docsA.body.items.map((doc: { title: string }) => doc.title).sort(),
      );
      expect(await truncations(b.tenantId)).toEqual(await truncations(a.tenantId));
      expect((await truncations(b.tenantId)).Parking).toBe(2);
      // New ids in the new tenant, and its chunks read back whole.
      const one = docsB.body.items[0];
      expect(docsA.body.items.map((doc: { id: string }) => doc.id)).not.toContain(one.id);
      const withChunks = await api(server.url, "GET", `/tenants/${b.tenantId}/documents/${one.id}`, {
        token: server.adminToken,
      });
      expect(withChunks.body.chunks).toHaveLength(1);
      const hit = await api(server.url, "POST", `/search?tenantId=${b.tenantId}`, {
        token: server.adminToken,
        body: { query: withChunks.body.chunks[0].text, nResults: 1 },
      });
      expect(hit.body.results[0].id).toBe(`${one.id}:0`);
      expect(hit.body.results[0].metadata.documentId).toBe(one.id);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "exports JSONL that the stock chromadb client loads into a plain chroma run, and imports it back",
    async () => {
      const backup = await backUp(a.tenantId);
      const download = await fetch(`${server.url}/api/v1/tenants/${a.tenantId}/backups/${backup.id}/export`, {
        headers: { authorization: `Bearer ${server.adminToken}` },
      });
      expect(download.status).toBe(200);
      expect(download.headers.get("content-type")).toContain("application/x-ndjson");
      const text = await download.text();
      const [first, ...rest] = text.trim().split("\n");
      const header = ExportHeader.parse(JSON.parse(first!));
      const lines = rest.map((line) => ExportLine.parse(JSON.parse(line)));
      expect(lines.filter((line) => line.type === "record")).toHaveLength(header.counts.records);

      // The README's loader, as a user would run it against a plain Chroma.
      const chroma = await startChroma();
      try {
        const client = new ChromaClient({ host: "127.0.0.1", port: chroma.port });
        for (const { name, metadata } of header.collections) {
          const collection = await client.getOrCreateCollection({
            name,
            metadata: metadata ?? undefined,
            configuration: { hnsw: { space: "cosine" } },
            embeddingFunction: null,
          });
          const records = lines.filter((line) => line.type === "record" && line.collection === name);
          await collection.upsert({
            ids: records.map((r) => (r as { id: string }).id),
            embeddings: records.map((r) => (r as { embedding: number[] }).embedding),
            documents: records.map((r) => (r as { document: string }).document),
            metadatas: records.map((r) => (r as { metadata: Record<string, string> }).metadata),
          });
        }
        const plain: Record<string, number> = {};
        for (const collection of await client.listCollections())
          plain[collection.name] = await collection.count();
        expect(plain).toEqual(await chromaCounts(a.key));
        // The same nearest neighbours as the tenant's own Chroma for a stored vector.
        const probe = lines.find((line) => line.type === "record" && line.collection === "default") as {
          embedding: number[];
        };
        const mine = await (await chromaOf(a.key).getCollection({ name: "default" })).query({
          queryEmbeddings: [probe.embedding],
          nResults: 5,
        });
        const theirs = await (await client.getCollection({ name: "default" })).query({
          queryEmbeddings: [probe.embedding],
          nResults: 5,
        });
        expect(theirs.ids).toEqual(mine.ids);
      } finally {
        await chroma.stop();
      }

      // Import: the same file becomes a completed backup of tenant B, which restores like any.
      const imported = await fetch(`${server.url}/api/v1/tenants/${b.tenantId}/backups/import`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/x-ndjson" },
        body: text,
      });
      expect(imported.status).toBe(201);
      const importedBackup = (await imported.json()) as {
        id: string;
        status: string;
        counts: unknown;
        source: string;
      };
      expect(importedBackup).toMatchObject({ status: "completed", source: "import", counts: header.counts });
      // Restoring replaces: a collection the export does not have is gone afterwards.
      await chromaOf(b.key).getOrCreateCollection({ name: "stray", embeddingFunction: null });
      const restored = await restore(b.tenantId, importedBackup.id);
      expect(restored).toMatchObject({ status: "succeeded", lastError: null });
      expect(await chromaCounts(b.key)).toEqual(await chromaCounts(a.key));

      const broken = await fetch(`${server.url}/api/v1/tenants/${b.tenantId}/backups/import`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.adminToken}` },
        body: `${first}\n{"type":"record","collection":"nope","id":"x","embedding":[1],"document":null,"metadata":null}\n`,
      });
      expect(broken.status).toBe(400);
      expect(((await broken.json()) as { error: { message: string } }).error.message).toContain("nope");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "keeps tenants apart: another tenant cannot list, read, restore, export or delete A's backups",
    async () => {
      const backup = await backUp(a.tenantId, aAdminKey);
      expect(backup.status).toBe("completed");
      const bAdminKey = (
        await api(server.url, "POST", `/tenants/${b.tenantId}/keys`, {
          token: server.adminToken,
          body: { name: "admin", scopes: ["read", "write", "admin"] },
        })
      ).body.secret;
      const attempts = [
        api(server.url, "GET", `/tenants/${a.tenantId}/backups`, { token: bAdminKey }),
        api(server.url, "GET", `/tenants/${a.tenantId}/backups/${backup.id}`, { token: bAdminKey }),
        api(server.url, "GET", `/tenants/${a.tenantId}/backups/${backup.id}/export`, { token: bAdminKey }),
        api(server.url, "POST", `/tenants/${a.tenantId}/backups/${backup.id}/restore`, {
          token: bAdminKey,
          body: { targetTenantId: b.tenantId },
        }),
        api(server.url, "DELETE", `/tenants/${a.tenantId}/backups/${backup.id}`, { token: bAdminKey }),
      ];
      for (const reply of await Promise.all(attempts)) expect(reply.status).toBe(403);
      // B naming A's backup under its own tenant finds nothing.
      const probe = await api(server.url, "GET", `/tenants/${b.tenantId}/backups/${backup.id}`, {
        token: bAdminKey,
      });
      expect(probe.status).toBe(404);
      const restoreProbe = await api(
        server.url,
        "POST",
        `/tenants/${b.tenantId}/backups/${backup.id}/restore`,
        {
          token: bAdminKey,
          body: {},
        },
      );
      expect(restoreProbe.status).toBe(404);
      // A's own key cannot restore into B.
      const intoB = await api(server.url, "POST", `/tenants/${a.tenantId}/backups/${backup.id}/restore`, {
        token: aAdminKey,
        body: { targetTenantId: b.tenantId },
      });
      expect(intoB.status).toBe(403);
      // A read/write key without admin cannot start one.
      expect((await api(server.url, "POST", `/tenants/${a.tenantId}/backups`, { token: a.key })).status).toBe(
        403,
      );
      // And A's owner can delete it: gone from the list.
      expect(
        (await api(server.url, "DELETE", `/tenants/${a.tenantId}/backups/${backup.id}`, { token: aAdminKey }))
          .status,
      ).toBe(200);
      const listed = await api(server.url, "GET", `/tenants/${a.tenantId}/backups?limit=100`, {
        token: aAdminKey,
      });
      expect(listed.body.items.map((item: { id: string }) => item.id)).not.toContain(backup.id);
    },
    TEST_TIMEOUT_MS,
  );
});
