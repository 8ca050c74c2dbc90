import { AppError } from "@vdb/http/errors";
import { ErrorBody } from "@vdb/schemas/errors";
import { PLANS } from "@vdb/schemas/plans";
import { and, eq, gte, sql } from "drizzle-orm";
import { InstanceNotRunningError, InstanceUnavailableError } from "../data-plane/instance-client";
import { servingInstance } from "../instances/serving-instance";
import { JobDeferredError, type JobHandler, PermanentJobError } from "../jobs/job-queue";
import { runInOrder, yieldToEventLoop } from "../lib/concurrency";
import { workerCtx } from "../lib/context";
import { chunks, databases, documents, tenants } from "../lib/db/schema";
import type { Services } from "../services";
import { recordUsage } from "../usage/record-usage";
import type { TextChunk } from "./parsing/chunk-text";
import { DocumentParseError } from "./parsing/document-parse-error";
import { purgeFailedChunks } from "./reconcile-ingestions";

export const INGEST_JOB = "ingest";
/** Chunks per `/embed` call at most: large enough to batch the model, small enough to report progress often. */
const EMBED_BATCH = 64;
/** Chunks per `/embed` call at least: the instance's embedding threads take 8 texts per task. */
const MIN_EMBED_BATCH = 8;
/** Progress steps a small document is cut into, so that it does not sit at 0 of 20 and jump to done. */
const MIN_PROGRESS_STEPS = 4;

/**
 * Chunks per `/embed` call for a document of `total` chunks: 64 from 256 chunks up, fewer below so
 * that progress moves in at least four steps, never fewer than 8 (a 20-chunk document goes 8, 16,
 * 20). Depends on `total` only, so a resumed attempt cuts the same batches.
 */
export function embedBatchSize(total: number): number {
  return Math.min(EMBED_BATCH, Math.max(MIN_EMBED_BATCH, Math.ceil(total / MIN_PROGRESS_STEPS)));
}
/**
 * Chunk rows per INSERT, with a turn of the event loop between statements: building and running
 * one statement for 500 rows took 200-700 ms of the serving thread (drizzle builds the SQL, PGlite
 * runs in-process), during which no other tenant's request and no `/health` was answered.
 */
const INSERT_BATCH = 100;

/** Chroma metadata may hold only scalars: drop what is not one. */
function chunkMetadata(document: typeof documents.$inferSelect, chunk: TextChunk) {
  const metadata: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(document.metadata)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
      metadata[key] = value;
  }
  Object.assign(metadata, { documentId: document.id, index: chunk.index, title: document.title });
  if (chunk.page !== undefined) metadata.page = chunk.page;
  if (chunk.heading !== undefined) metadata.heading = chunk.heading;
  return metadata;
}

/**
 * The embedding model of a collection as the control plane knows it: the named database's that
 * owns it, else the tenant instance's own (a collection created on the instance directly with
 * another model is not known here; its truncation is still counted from `/embed`'s answer).
 */
async function collectionModel(
  services: Services,
  tenantId: string,
  collection: string,
): Promise<string | null> {
  const [database] = await services.db
    .select({ model: databases.model })
    .from(databases)
    .where(and(eq(databases.tenantId, tenantId), eq(databases.name, collection)))
    .limit(1);
  if (database) return database.model;
  return (await servingInstance(services.db, tenantId))?.row.model ?? null;
}

/**
 * Whether `error` means the tenant's instance, not the document, is why the attempt failed: the
 * instance was not running (or not meant to be) when called. One that stopped answering while
 * recorded running and meant to run is not excused: the document may be what brought it down,
 * so that attempt counts.
 */
async function instanceDeferral(
  services: Services,
  tenantId: string,
  error: unknown,
): Promise<JobDeferredError | null> {
  if (!(error instanceof InstanceUnavailableError || error instanceof InstanceNotRunningError)) return null;
  let state = error.state;
  if (state === "unreachable") {
    const row = (await servingInstance(services.db, tenantId))?.row;
    if (row?.state === "running" && row.desiredState === "running") return null;
    state = row ? (row.desiredState === "running" ? row.state : "stopping") : "none";
  }
  const why = state === "none" ? "the tenant has no instance" : `the tenant's instance is ${state}`;
  // The queue holds the job back until the instance runs again (TENANT_INSTANCE_RUNNING).
  return new JobDeferredError(`waiting: ${why}; ingestion continues when it is running`, { cause: error });
}

/**
 * One ingestion attempt: blob → parse → chunk → chunk rows → embed + upsert into the tenant's
 * instance in batches, with progress. Chunk ids are `<document id>:<index>`, so a re-run (a retry,
 * or a worker that died mid-way) upserts the same records: none lost, none duplicated. A bad file
 * fails at once with its reason; an unavailable instance defers the job without using an attempt.
 * A document that ends `failed` has its chunks taken out of the instance: only `ready` ones are
 * searchable.
 */
export function ingestHandler(services: Services): JobHandler {
  return async (job, { signal, reportProgress }) => {
    const documentId = String(job.payload.documentId);
    const { db } = services;
    const [row] = await db
      .select({ document: documents, plan: tenants.plan })
      .from(documents)
      .innerJoin(tenants, eq(tenants.id, documents.tenantId))
      .where(eq(documents.id, documentId))
      .limit(1);
    if (!row) return; // deleted while queued: nothing left to do
    const { document, plan } = row;
    const setStatus = (
      status: "processing" | "ready" | "failed" | "queued",
      changes: Partial<typeof document> = {},
    ) =>
      db
        .update(documents)
        .set({ status, updatedAt: sql`now()`, ...changes })
        .where(eq(documents.id, documentId));
    await setStatus("processing", { failureReason: null });
    try {
      if (!document.blobKey) throw new PermanentJobError("the document has no file");
      const embeddingModel = await collectionModel(services, document.tenantId, document.collection);
      const bytes = await services.blobs.get(document.blobKey);
      // In a sandboxed process under a deadline and memory cap: a hostile file fails itself only.
      const { chunks: pieces } = await services.parser.parseAndChunk(
        document.tenantId,
        {
          bytes,
          filename: document.filename ?? "document.txt",
          contentType: document.contentType ?? undefined,
          maxBytes: PLANS[plan].maxUploadBytes,
          chunkSize: document.chunkSize,
          chunkOverlap: document.chunkOverlap,
          ...(embeddingModel ? { embeddingModel } : {}),
        },
        signal,
      );
      if (pieces.length === 0)
        throw new DocumentParseError({ kind: "no_text", reason: "no text found in the file" });

      // On PostgreSQL one transaction: a reader sees the old chunks or the new ones, never a mix,
      // and other statements go on beside it. Embedded PGlite runs one transaction at a time and
      // makes every other query wait for it, however long: a 2,000-chunk document's inserts held
      // /health, API-key checks and other tenants' requests for up to a second (bench/isolation).
      // There each statement commits alone; while the document is `processing` its chunk rows may
      // be part old, part new, and a re-run upserts them all again.
      const writeChunkRows = async (tx: Pick<typeof db, "delete" | "insert">) => {
        await tx
          .delete(chunks)
          .where(and(eq(chunks.documentId, documentId), gte(chunks.index, pieces.length)));
        for (let start = 0; start < pieces.length; start += INSERT_BATCH) {
          // The loop serves other work between statements.
          if (start > 0) await yieldToEventLoop();
          const rows = pieces.slice(start, start + INSERT_BATCH).map((chunk) => ({
            id: `${documentId}:${chunk.index}`,
            documentId,
            tenantId: document.tenantId,
            index: chunk.index,
            text: chunk.text,
            tokenCount: chunk.tokenCount,
            page: chunk.page ?? null,
            heading: chunk.heading ?? null,
          }));
          await tx
            .insert(chunks)
            .values(rows)
            .onConflictDoUpdate({
              target: chunks.id,
              set: {
                text: sql`excluded.text`,
                tokenCount: sql`excluded.token_count`,
                page: sql`excluded.page`,
                heading: sql`excluded.heading`,
              },
            });
        }
      };
      if (services.store.kind === "pglite") await writeChunkRows(db);
      else await db.transaction(writeChunkRows);

      const ctx = workerCtx(services, job.id);
      // Resume where a previous attempt got to: its batches are already in the instance.
      const batchSize = embedBatchSize(pieces.length);
      const resumeAt =
        job.progress.total === pieces.length ? job.progress.done - (job.progress.done % batchSize) : 0;
      // The plan's record quota, checked before any chunk is written: a document that would not
      // fit is refused whole (ids already stored by an earlier run are not new).
      const health = await ctx.services.instances.call(ctx, {
        tenantId: document.tenantId,
        scope: "read",
        method: "GET",
        path: "/healthz",
      });
      const stored = (health.body as { counts?: { documents?: number } } | null)?.counts?.documents;
      const { maxRecords } = PLANS[plan];
      const added = pieces.length - Math.max(document.chunkCount, resumeAt);
      if (typeof stored === "number" && stored + added > maxRecords) {
        throw new PermanentJobError(
          `the ${PLANS[plan].title} plan holds at most ${maxRecords} chunks; this document's ${pieces.length} would exceed it (${stored} stored). Nothing of it was stored.`,
        );
      }
      // Counted per batch, so a resumed attempt keeps what the batches before it found.
      if (resumeAt === 0)
        await db.update(documents).set({ truncatedChunks: 0 }).where(eq(documents.id, documentId));
      await reportProgress(resumeAt, pieces.length);
      // Up to INGEST_EMBED_CONCURRENCY batches in flight (the instance embeds them on separate
      // threads); progress moves only over a gapless prefix, so a resume never skips a batch.
      const batchCount = Math.ceil((pieces.length - resumeAt) / batchSize);
      await runInOrder(
        batchCount,
        services.config.INGEST_EMBED_CONCURRENCY,
        async (batchIndex) => {
          signal.throwIfAborted();
          const start = resumeAt + batchIndex * batchSize;
          const batch = pieces.slice(start, start + batchSize);
          const result = await ctx.services.instances.call(ctx, {
            tenantId: document.tenantId,
            scope: "write",
            method: "POST",
            path: "/embed",
            body: {
              collection: document.collection,
              ids: batch.map((chunk) => `${documentId}:${chunk.index}`),
              documents: batch.map((chunk) => chunk.text),
              metadatas: batch.map((chunk) => chunkMetadata(document, chunk)),
            },
          });
          if (result.status >= 400) {
            const refusal = ErrorBody.safeParse(result.body);
            const message = refusal.success
              ? refusal.data.error.message
              : `the instance answered ${result.status}`;
            // The instance refused the input (quota, model mismatch): retrying cannot help.
            if (result.status < 500 && result.status !== 409) throw new PermanentJobError(message);
            // Its disk is full (507): retries would fail alike until an operator frees space.
            if (result.status === 507)
              throw new PermanentJobError(
                `${message.replace(/[.\s]+$/, "")}. Re-ingest the document once space is freed.`,
              );
            throw new Error(message);
          }
          const truncated = (result.body as { truncated?: unknown } | null)?.truncated;
          return {
            doneThrough: start + batch.length,
            truncated: Array.isArray(truncated) ? truncated.length : 0,
          };
        },
        async (_, { doneThrough, truncated }) => {
          if (truncated > 0) {
            // The model read only the start of these chunks: said on the document, not dropped silently.
            services.logger.warn(
              { documentId, truncated, model: embeddingModel },
              "chunks longer than the embedding model's input window were embedded from their start only",
            );
            await db
              .update(documents)
              .set({ truncatedChunks: sql`${documents.truncatedChunks} + ${truncated}` })
              .where(eq(documents.id, documentId));
          }
          await reportProgress(doneThrough, pieces.length);
        },
      );
      if (document.chunkCount > pieces.length) {
        // A re-ingest that yields fewer chunks: the old tail must not stay searchable.
        const stale = Array.from(
          { length: document.chunkCount - pieces.length },
          (_, i) => `${documentId}:${pieces.length + i}`,
        );
        await ctx.services.instances.call(ctx, {
          tenantId: document.tenantId,
          scope: "write",
          method: "POST",
          path: "/delete",
          body: { collection: document.collection, ids: stale },
        });
      }
      // Counted only if the document really becomes ready: in the same transaction.
      await db.transaction(async (tx) => {
        await tx
          .update(documents)
          .set({ status: "ready", chunkCount: pieces.length, failureReason: null, updatedAt: sql`now()` })
          .where(eq(documents.id, documentId));
        const metadata = { documentId };
        await recordUsage(tx, [
          { tenantId: document.tenantId, kind: "ingest.documents", quantity: 1, metadata },
          { tenantId: document.tenantId, kind: "ingest.chunks", quantity: pieces.length, metadata },
          {
            tenantId: document.tenantId,
            kind: "ingest.tokens",
            quantity: pieces.reduce((total, chunk) => total + chunk.tokenCount, 0),
            metadata,
          },
        ]);
      });
    } catch (error) {
      const deferral = await instanceDeferral(services, document.tenantId, error);
      if (deferral) {
        await setStatus("queued", { failureReason: deferral.message });
        throw deferral;
      }
      const reason =
        error instanceof DocumentParseError
          ? error.reason
          : error instanceof AppError || error instanceof Error
            ? error.message
            : String(error);
      const isPermanent = error instanceof DocumentParseError || error instanceof PermanentJobError;
      if (isPermanent || job.attempts >= job.maxAttempts) {
        await setStatus("failed", {
          failureReason: isPermanent ? reason : `gave up after ${job.attempts} attempts: ${reason}`,
        });
        await purgeFailedChunks(services, { documentId });
        throw isPermanent && !(error instanceof PermanentJobError) ? new PermanentJobError(reason) : error;
      }
      await setStatus("queued", { failureReason: `attempt ${job.attempts} failed, retrying: ${reason}` });
      throw error;
    }
  };
}
