import { setTimeout as sleep } from "node:timers/promises";
import { newId } from "@vdb/schemas/ids";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documents, jobs } from "../lib/db/schema";
import { startTestServer, type TestServer } from "../testing";
import { api, tenantWithKey, trpcLiveAs, until, watchUntil } from "../testing/http";
import { INGEST_JOB } from "./ingest-job";
import { reconcileIngestions } from "./reconcile-ingestions";

let server: TestServer;
let tenantId: string;
let key: string;
let live: ReturnType<typeof trpcLiveAs>;

beforeAll(async () => {
  server = await startTestServer();
  live = trpcLiveAs(server.url, server.adminToken);
  ({ tenantId, key } = await tenantWithKey(server.url, server.adminToken, "outage"));
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await watchUntil(live, tenantId, (instance) => instance?.state === "running");
}, 180_000); // a loaded, shared machine starts slowly
afterAll(async () => server?.close());

const jobOf = async (documentId: string) => {
  const [job] = await server.services.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.kind, INGEST_JOB), sql`${jobs.payload}->>'documentId' = ${documentId}`));
  return job!;
};

const listed = async () =>
  (await api(server.url, "GET", `/tenants/${tenantId}/documents?limit=100`, { token: key })).body.items as {
    id: string;
    status: string;
    chunkCount: number;
    progress: { done: number; total: number } | null;
  }[];

describe("ingestion while the tenant's instance is unavailable", () => {
  it("a stopped instance holds its tenant's backlog without using attempts; relaunched, every document becomes ready", async () => {
    await api(server.url, "POST", `/tenants/${tenantId}/instance/stop`, { token: server.adminToken });
    await watchUntil(live, tenantId, (instance) => instance?.state === "stopped");

    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const created = await api(server.url, "POST", "/docs", {
        token: key,
        body: {
          title: `Held ${i}`,
          text: `Held document ${i}. `.repeat(200),
          chunkSize: 60,
          chunkOverlap: 0,
        },
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    // Many worker polls (1 s each) pass: no job is claimed, none uses an attempt.
    await sleep(2_500);
    for (const id of ids) expect(await jobOf(id)).toMatchObject({ status: "queued", attempts: 0 });
    // The listing says so, with each one's progress (nothing done yet), as a single document does.
    const held = (await listed()).filter((doc) => ids.includes(doc.id));
    expect(held.map((doc) => [doc.status, doc.progress])).toEqual(
      ids.map(() => ["queued", { done: 0, total: 0 }]),
    );
    const single = await api(server.url, "GET", `/tenants/${tenantId}/documents/${ids[0]}`, { token: key });
    expect(single.body.progress).toEqual(held.find((doc) => doc.id === ids[0])?.progress);
    // Its job is queued: a second ingestion of it is refused, saying so.
    const again = await api(server.url, "POST", `/tenants/${tenantId}/documents/${ids[0]}/ingest`, {
      token: key,
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(
      /already being ingested \(job job_\w+, queued, attempt 0 of 5\)/,
    );

    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
    const done = await until("all ready", listed, (docs) =>
      ids.every((id) => docs.find((doc) => doc.id === id)?.status === "ready"),
    );
    for (const id of ids) {
      expect(await jobOf(id)).toMatchObject({ status: "succeeded", attempts: 1 });
      expect(done.find((doc) => doc.id === id)?.chunkCount).toBeGreaterThan(1);
      expect(done.find((doc) => doc.id === id)?.progress).toBeNull();
    }
  });

  it("jobs an outage dead-lettered before this fix are requeued at start-up and their documents end ready", async () => {
    const created = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "Victim", text: "A document an old outage gave up on. ".repeat(50) },
    });
    const documentId = created.body.id as string;
    await until(
      "ingested",
      async () => (await jobOf(documentId)).status,
      (status) => status === "succeeded",
    );
    // What the old code left behind: the job dead on the instance's state, the document failed.
    const { db } = server.services;
    const message = "The tenant's instance is starting; try again shortly";
    await db
      .update(jobs)
      .set({ status: "dead", attempts: 5, lastError: message, finishedAt: sql`now()` })
      .where(eq(jobs.id, (await jobOf(documentId)).id));
    await db
      .update(documents)
      .set({ status: "failed", failureReason: `gave up after 5 attempts: ${message}` })
      .where(eq(documents.id, documentId));
    // A job dead for a reason of its own is left alone.
    const [kept] = await db
      .insert(jobs)
      .values({
        id: newId("job"),
        tenantId,
        kind: INGEST_JOB,
        payload: { documentId: "doc_unrelated" },
        status: "dead",
        attempts: 5,
        lastError: "the instance answered 500",
      })
      .returning();

    const result = await reconcileIngestions(server.services, { reviveOutageDeadLetters: true });
    expect(result.revived).toBe(1);
    const ready = await until(
      "revived document ready",
      async () => (await api(server.url, "GET", `/docs/${documentId}`, { token: key })).body,
      (doc) => doc.status === "ready",
    );
    expect(ready).toMatchObject({ status: "ready", failureReason: null });
    expect(await jobOf(documentId)).toMatchObject({ status: "succeeded", attempts: 1 });
    const [still] = await db.select().from(jobs).where(eq(jobs.id, kept!.id));
    expect(still).toMatchObject({ status: "dead", lastError: "the instance answered 500" });
  });

  it("a document left processing by a dead job is failed with the job's error, its chunks leave Chroma, and re-ingest recovers it", async () => {
    const created = await api(server.url, "POST", "/docs", {
      token: key,
      body: {
        title: "Stuck",
        text: "A document whose worker died. ".repeat(80),
        chunkSize: 50,
        chunkOverlap: 0,
      },
    });
    const documentId = created.body.id as string;
    await until(
      "ingested",
      async () => (await jobOf(documentId)).status,
      (status) => status === "succeeded",
    );
    // Counted in the tenant's Chroma: a search filtered to the document, every hit.
    const inChroma = async () =>
      (
        await api(server.url, "POST", "/search", {
          token: key,
          body: { query: "worker", nResults: 1_000, where: { documentId } },
        })
      ).body.results.length as number;
    const chunkCount = (await api(server.url, "GET", `/docs/${documentId}`, { token: key })).body.chunkCount;
    expect(await inChroma()).toBe(chunkCount);

    // What a full disk left: the job dead-lettered, the document's own status never written.
    const { db } = server.services;
    const lastError = "attempt 5: its worker (w1) stopped renewing the lease";
    await db
      .update(jobs)
      .set({ status: "dead", attempts: 5, lastError, finishedAt: sql`now()` })
      .where(eq(jobs.id, (await jobOf(documentId)).id));
    await db.update(documents).set({ status: "processing" }).where(eq(documents.id, documentId));

    await reconcileIngestions(server.services, { tenantId });
    const failed = (await api(server.url, "GET", `/docs/${documentId}`, { token: key })).body;
    expect(failed).toMatchObject({ status: "failed", chunkCount: 0, chunks: [] });
    expect(failed.failureReason).toBe(`gave up after 5 attempts: ${lastError}`);
    expect(await inChroma()).toBe(0);
    const search = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "worker died", nResults: 5, where: { documentId } },
    });
    expect(search.body.results).toEqual([]);

    expect(
      (await api(server.url, "POST", `/tenants/${tenantId}/documents/${documentId}/ingest`, { token: key }))
        .status,
    ).toBe(200);
    const ready = await until(
      "re-ingested",
      async () => (await api(server.url, "GET", `/docs/${documentId}`, { token: key })).body,
      (doc) => doc.status === "ready",
    );
    expect(ready.chunkCount).toBe(chunkCount);
    expect(await inChroma()).toBe(chunkCount);
  });
});
