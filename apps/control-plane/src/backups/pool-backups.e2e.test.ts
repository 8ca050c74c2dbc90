import { PLANS } from "@vdb/schemas/plans";
import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestText, startTestServer, type TestServer } from "../testing";
import { api, launchUntilRunning, tenantWithKey, until } from "../testing/http";

/**
 * Backups of shared-tier tenants: a Free tenant lives in a pool (one instance and one Chroma for
 * many tenants, each in a Chroma namespace of its own). Its backup and restore go through the
 * pool like any of its calls and touch only its namespace.
 */
const STARTUP_TIMEOUT_MS = 300_000;
const TEST_TIMEOUT_MS = 180_000;

let server: TestServer;
let owner: { tenantId: string; key: string };
let neighbour: { tenantId: string; key: string };

const stockClient = (key: string) => {
  const { hostname, port } = new URL(server.url);
  return new ChromaClient({ host: hostname, port: Number(port), headers: { "x-chroma-token": key } });
};

/**
 * Runs calls again after a 429 (a stock client's ChromaRateLimitError, or the answer itself), as a
 * client that backs off would: a Free tenant may make 5 requests per second (bursts of 10), all its
 * keys and sessions together, and this test's reads come in bursts.
 */
async function backingOff<T>(calls: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    let isLimited: boolean;
    let result: T | undefined;
    try {
      result = await calls();
      isLimited = (result as { status?: unknown } | null)?.status === 429;
    } catch (error) {
      if ((error as Error).name !== "ChromaRateLimitError") throw error;
      isLimited = true;
      if (attempt >= 10) throw error;
    }
    if (!isLimited || attempt >= 10) return result as T;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** A REST call of this test, backing off when its tenant's rate limit answers 429. */
const call = (method: string, path: string, opts?: Parameters<typeof api>[3]) =>
  backingOff(() => api(server.url, method, path, opts));

/** Every collection's name and record count, read in Chroma through the gateway. */
function recordCounts(key: string): Promise<Record<string, number>> {
  return backingOff(async () => {
    const counts: Record<string, number> = {};
    for (const collection of await stockClient(key).listCollections())
      counts[collection.name] = await collection.count();
    return counts;
  });
}

/** The ids a keyword search of the default collection finds. */
async function keywordHits(tenantId: string, query: string): Promise<string[]> {
  const reply = await call("POST", `/search?tenantId=${tenantId}`, {
    token: server.adminToken,
    body: { query, nResults: 10, mode: "keyword" },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.results.map((hit: { id: string }) => hit.id).sort();
}

/** Starts a backup or a restore (`POST path`) and reads `read(id)` until it has finished. */
async function runToEnd(path: string, read: (id: string) => string) {
  const started = await call("POST", path, { token: server.adminToken, body: {} });
  expect(started.status).toBe(202);
  return until(
    path,
    async () => (await call("GET", read(started.body.id), { token: server.adminToken })).body,
    (item) => !["queued", "running"].includes(item.status),
    { everyMs: 200 },
  );
}

const takeBackup = (tenantId: string) =>
  runToEnd(`/tenants/${tenantId}/backups`, (id) => `/tenants/${tenantId}/backups/${id}`);
const restoreInPlace = (tenantId: string, backupId: string) =>
  runToEnd(`/tenants/${tenantId}/backups/${backupId}/restore`, (id) => `/tenants/${tenantId}/restores/${id}`);

/** A collection of 3-d vectors written with the stock client, as a user of the gateway would. */
async function addNotes(key: string, texts: string[]) {
  await backingOff(async () => {
    const notes = await stockClient(key).getOrCreateCollection({ name: "notes", embeddingFunction: null });
    await notes.upsert({
      ids: texts.map((_, i) => `n${i}`),
      embeddings: texts.map((_, i) => [i + 1, 0.5, 0.25]),
      documents: texts,
    });
  });
}

beforeAll(async () => {
  server = await startTestServer();
  owner = await tenantWithKey(server.url, server.adminToken, "pool-backup-owner", "free");
  neighbour = await tenantWithKey(server.url, server.adminToken, "pool-backup-neighbour", "free");
  await launchUntilRunning(server.url, server.adminToken, owner.tenantId);
  await launchUntilRunning(server.url, server.adminToken, neighbour.tenantId);
  await ingestText(
    server,
    owner.tenantId,
    "Garden",
    "Tulips bloom in spring beside the old stone wall.",
    240_000,
  );
  await ingestText(
    server,
    owner.tenantId,
    "Winter",
    "Snow covers the pine trees on the northern hill.",
    240_000,
  );
  await ingestText(
    server,
    neighbour.tenantId,
    "Harbour",
    "Tulips are shipped from the harbour every spring.",
    240_000,
  );
  // The same collection name in both namespaces of the one pool Chroma.
  await addNotes(owner.key, ["first note", "second note", "third note"]);
  await addNotes(neighbour.key, ["a neighbour's note", "another of the neighbour's notes"]);
}, STARTUP_TIMEOUT_MS);
afterAll(async () => server?.close());

describe("backup and restore of a shared-tier (pool) tenant", () => {
  it(
    "backs up a Free tenant on request and restores it in place; its pool neighbour keeps its records",
    async () => {
      const placement = async (tenantId: string) =>
        (await call("GET", `/status/${tenantId}`, { token: server.adminToken })).body;
      const [mine, theirs] = [await placement(owner.tenantId), await placement(neighbour.tenantId)];
      expect(mine).toMatchObject({ tier: "shared", state: "running" });
      expect(theirs.poolId).toBe(mine.poolId);
      // The plan rule: backups on request on every plan, none on a schedule on Free.
      expect(PLANS.free.backupEveryMs).toBe(0);

      const ownerBefore = await recordCounts(owner.key);
      expect(ownerBefore).toEqual({ default: 2, notes: 3 });
      const neighbourBefore = await recordCounts(neighbour.key);
      expect(neighbourBefore).toEqual({ default: 1, notes: 2 });
      const tulipsBefore = await keywordHits(owner.tenantId, "tulips");
      expect(tulipsBefore).toHaveLength(1);
      const neighbourTulips = await keywordHits(neighbour.tenantId, "tulips");
      expect(neighbourTulips).toHaveLength(1);

      const backup = await takeBackup(owner.tenantId);
      expect(backup).toMatchObject({
        status: "completed",
        counts: { collections: 2, records: 5, documents: 2, chunks: 2 },
      });

      // A wrong delete and a stray collection in the owner's namespace.
      await backingOff(() => stockClient(owner.key).deleteCollection({ name: "default" }));
      await backingOff(() =>
        stockClient(owner.key).getOrCreateCollection({ name: "stray", embeddingFunction: null }),
      );
      expect(await recordCounts(owner.key)).toEqual({ notes: 3, stray: 0 });

      const restored = await restoreInPlace(owner.tenantId, backup.id);
      expect(restored).toMatchObject({ status: "succeeded", lastError: null });
      expect(await recordCounts(owner.key)).toEqual(ownerBefore);
      expect(await keywordHits(owner.tenantId, "tulips")).toEqual(tulipsBefore);
      expect(await keywordHits(owner.tenantId, "pine snow")).toHaveLength(1);
      const documents = await call("GET", `/tenants/${owner.tenantId}/documents`, {
        token: server.adminToken,
      });
      expect(documents.body.items.map((doc: { title: string }) => doc.title).sort()).toEqual([
        "Garden",
        "Winter",
      ]);

      // The neighbour in the same pool: the same collections, records, documents and hits.
      expect(await recordCounts(neighbour.key)).toEqual(neighbourBefore);
      expect(await keywordHits(neighbour.tenantId, "tulips")).toEqual(neighbourTulips);
      const notes = await backingOff(async () =>
        (await stockClient(neighbour.key).getCollection({ name: "notes" })).get({ include: ["documents"] }),
      );
      expect(notes.documents.sort()).toEqual(["a neighbour's note", "another of the neighbour's notes"]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "refuses, before writing anything, a backup larger than the target tenant's plan holds",
    async () => {
      const big = await tenantWithKey(server.url, server.adminToken, "pool-backup-big", "pro");
      await launchUntilRunning(server.url, server.adminToken, big.tenantId);
      const over = PLANS.free.maxRecords + 1;
      const collection = await stockClient(big.key).createCollection({
        name: "many",
        embeddingFunction: null,
      });
      for (let start = 0; start < over; start += 500) {
        const ids = Array.from({ length: Math.min(500, over - start) }, (_, i) => `m${start + i}`);
        await collection.add({ ids, embeddings: ids.map((_, i) => [start + i + 1, 1, 0]) });
      }
      const backup = await takeBackup(big.tenantId);
      expect(backup).toMatchObject({ status: "completed", counts: { records: over } });
      const ownerBefore = await recordCounts(owner.key);

      const refused = await call("POST", `/tenants/${big.tenantId}/backups/${backup.id}/restore`, {
        token: server.adminToken,
        body: { targetTenantId: owner.tenantId },
      });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("QUOTA_EXCEEDED");
      expect(refused.body.error.message).toContain(String(PLANS.free.maxRecords));
      expect(await recordCounts(owner.key)).toEqual(ownerBefore);
    },
    TEST_TIMEOUT_MS,
  );
});
