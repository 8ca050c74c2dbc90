import { and, desc, eq, exists, inArray, like, notExists, or, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { workerCtx } from "../lib/context";
import { chunks, documents, instances, jobs, poolPlacements } from "../lib/db/schema";
import type { Services } from "../services";
import { INGEST_JOB } from "./ingest-job";

/** Which documents a reconciliation looks at: all, one tenant's, or one. */
export interface IngestionScope {
  tenantId?: string;
  documentId?: string;
}

/** `documentId`: an id, or a column for a subquery correlated with the outer query's documents. */
const isIngestJobOf = (documentId: AnyPgColumn | string) =>
  and(eq(jobs.kind, INGEST_JOB), sql`${jobs.payload}->>'documentId' = ${documentId}`);

function inScope(scope: IngestionScope): SQL[] {
  const filters: SQL[] = [];
  if (scope.tenantId) filters.push(eq(documents.tenantId, scope.tenantId));
  if (scope.documentId) filters.push(eq(documents.id, scope.documentId));
  return filters;
}

/**
 * Documents stuck `queued` or `processing` with no live ingestion job (it was dead-lettered by a
 * lease sweep, or the worker could not record the failure, e.g. on a full disk) become `failed`
 * with their job's last error. Returns how many.
 */
async function failOrphanedIngestions(services: Services, scope: IngestionScope): Promise<number> {
  const { db } = services;
  const orphans = await db
    .select({ id: documents.id })
    .from(documents)
    .where(
      and(
        ...inScope(scope),
        inArray(documents.status, ["queued", "processing"]),
        notExists(
          db
            .select({ one: sql`1` })
            .from(jobs)
            .where(and(isIngestJobOf(documents.id), inArray(jobs.status, ["queued", "running"]))),
        ),
      ),
    );
  let failed = 0;
  for (const { id } of orphans) {
    const [job] = await db
      .select({ status: jobs.status, attempts: jobs.attempts, lastError: jobs.lastError })
      .from(jobs)
      .where(isIngestJobOf(id))
      .orderBy(desc(jobs.createdAt))
      .limit(1);
    const reason = !job
      ? "its ingestion job no longer exists; re-ingest the document"
      : job.status === "dead"
        ? `gave up after ${job.attempts} attempts: ${job.lastError ?? "unknown error"}`
        : (job.lastError ?? `its ingestion job ended ${job.status} without recording the document`);
    const updated = await db
      .update(documents)
      .set({ status: "failed", failureReason: reason, updatedAt: sql`now()` })
      .where(and(eq(documents.id, id), inArray(documents.status, ["queued", "processing"])))
      .returning({ id: documents.id });
    if (updated.length > 0) {
      failed += 1;
      services.logger.warn({ documentId: id, reason }, "document without a live ingestion job marked failed");
    }
  }
  return failed;
}

/**
 * Takes a failed document's chunks out of its instance, then out of the store: a failed document
 * is not searchable. Its chunk rows are the mark of work left: while the instance cannot be
 * reached they stay, and a later reconciliation tries again. Returns how many documents it purged.
 */
export async function purgeFailedChunks(services: Services, scope: IngestionScope): Promise<number> {
  const { db } = services;
  const pending = await db
    .select({ id: documents.id, tenantId: documents.tenantId, collection: documents.collection })
    .from(documents)
    // The tenant's own instance, or the pool it is placed in.
    .innerJoin(
      instances,
      or(
        eq(instances.tenantId, documents.tenantId),
        eq(
          instances.tenantId,
          db
            .select({ poolId: poolPlacements.poolId })
            .from(poolPlacements)
            .where(eq(poolPlacements.tenantId, documents.tenantId)),
        ),
      ),
    )
    .where(
      and(
        ...inScope(scope),
        eq(documents.status, "failed"),
        eq(instances.state, "running"),
        exists(db.select({ one: sql`1` }).from(chunks).where(eq(chunks.documentId, documents.id))),
      ),
    );
  let purged = 0;
  for (const document of pending) {
    try {
      const ctx = workerCtx(services, `purge:${document.id}`);
      const result = await services.instances.call(ctx, {
        tenantId: document.tenantId,
        scope: "write",
        method: "POST",
        path: "/delete",
        body: { collection: document.collection, where: { documentId: document.id } },
      });
      // 404: the collection is gone, and its chunks with it.
      if (result.status >= 400 && result.status !== 404) {
        throw new Error(`the instance answered ${result.status} to deleting the chunks`);
      }
      await db.transaction(async (tx) => {
        const [still] = await tx
          .update(documents)
          .set({ chunkCount: 0 })
          .where(and(eq(documents.id, document.id), eq(documents.status, "failed")))
          .returning({ id: documents.id });
        if (still) await tx.delete(chunks).where(eq(chunks.documentId, document.id));
      });
      purged += 1;
    } catch (error) {
      services.logger.warn(
        { err: error, documentId: document.id },
        "could not remove a failed document's chunks yet; will try again",
      );
    }
  }
  return purged;
}

/**
 * Ingestion jobs that an outage of their tenant's instance dead-lettered before outages were
 * told apart from failures (their last error is the instance's state, never the document's):
 * requeued with their attempts reset, their documents `queued` again. Only jobs that are their
 * document's latest, for documents still `failed`.
 */
async function reviveOutageDeadLetters(services: Services, scope: IngestionScope): Promise<number> {
  const { db } = services;
  const latestJob = db
    .select({ id: jobs.id })
    .from(jobs)
    .where(isIngestJobOf(documents.id))
    .orderBy(desc(jobs.createdAt))
    .limit(1);
  const victims = await db
    .select({ jobId: jobs.id, documentId: documents.id })
    .from(jobs)
    .innerJoin(documents, sql`${documents.id} = ${jobs.payload}->>'documentId'`)
    .where(
      and(
        ...inScope(scope),
        eq(jobs.kind, INGEST_JOB),
        eq(jobs.status, "dead"),
        or(
          like(jobs.lastError, "The tenant's instance is %"),
          like(jobs.lastError, "This tenant has no instance%"),
        ),
        eq(documents.status, "failed"),
        sql`${jobs.id} = (${latestJob})`,
      ),
    );
  for (const { jobId, documentId } of victims) {
    await db
      .update(documents)
      .set({ status: "queued", failureReason: null, updatedAt: sql`now()` })
      .where(and(eq(documents.id, documentId), eq(documents.status, "failed")));
    await services.jobs.retry(jobId);
    services.logger.info({ documentId, jobId }, "requeued an ingestion an instance outage had dead-lettered");
  }
  return victims.length;
}

/**
 * Brings documents' statuses in line with their ingestion jobs and the instance: revives jobs an
 * outage dead-lettered (at start-up), fails documents whose job is dead or gone, and removes
 * failed documents' chunks from the instance. Safe to run any time, in any number of processes.
 */
export async function reconcileIngestions(
  services: Services,
  scope: IngestionScope & { reviveOutageDeadLetters?: boolean } = {},
): Promise<{ revived: number; failed: number; purged: number }> {
  const revived = scope.reviveOutageDeadLetters ? await reviveOutageDeadLetters(services, scope) : 0;
  const failed = await failOrphanedIngestions(services, scope);
  const purged = await purgeFailedChunks(services, scope);
  return { revived, failed, purged };
}
