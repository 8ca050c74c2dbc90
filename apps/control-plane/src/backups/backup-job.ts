import {
  type BackupCounts,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportCollection,
  type ExportHeader,
} from "@vdb/schemas/backups";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { InstanceNotRunningError, InstanceUnavailableError } from "../data-plane/instance-client";
import { toDocument } from "../documents/to-document";
import { type JobContext, JobDeferredError, type JobHandler, PermanentJobError } from "../jobs/job-queue";
import type { JobSnapshot } from "../jobs/schemas";
import { yieldToEventLoop } from "../lib/concurrency";
import { workerCtx } from "../lib/context";
import { backups, chunks, documents } from "../lib/db/schema";
import type { Services } from "../services";
import { type Manifest, manifestKey, PartWriter, snapshotPrefix } from "./snapshot";
import { STAGING_PREFIX, TenantChroma } from "./tenant-chroma";

export const BACKUP_JOB = "backup";
/** Records per Chroma `get`: a few MB of JSON at 384-d. */
const READ_PAGE = 1_000;
/** Control-plane rows per query. */
const ROW_PAGE = 500;

/**
 * The instance being down is no fault of the job: wait for it (the queue holds tenant jobs back
 * until their instance runs) without using an attempt.
 */
export function instanceDeferral(error: unknown): JobDeferredError | null {
  if (error instanceof InstanceNotRunningError || error instanceof InstanceUnavailableError)
    return new JobDeferredError(`waiting for the tenant's instance: ${error.message}`, { cause: error });
  return null;
}

/**
 * One backup attempt: every collection's records, read page by page through the instance, then
 * the document and chunk rows (one repeatable-read snapshot), written as parts; the manifest last,
 * then the row `completed`. A retried attempt writes the same keys again: parts are overwritten,
 * never mixed with an older attempt's because the manifest lists exactly this attempt's parts.
 *
 * While it runs the tenant keeps serving. Records written to Chroma during the backup may or
 * may not be in it (Chroma has no point-in-time read); each record that is in it is whole.
 */
export function backupHandler(services: Services): JobHandler {
  return async (job, { signal, reportProgress }) => {
    const backupId = String(job.payload.backupId);
    const [row] = await services.db.select().from(backups).where(eq(backups.id, backupId)).limit(1);
    if (row?.status !== "running") return; // deleted while queued, or already done
    const { tenantId } = row;
    try {
      const manifest = await writeSnapshot(services, job, tenantId, backupId, { signal, reportProgress });
      const sizeBytes = manifest.parts.reduce((total, part) => total + part.bytes, 0);
      await services.db
        .update(backups)
        .set({ status: "completed", sizeBytes, counts: manifest.header.counts, completedAt: sql`now()` })
        .where(and(eq(backups.id, backupId), eq(backups.status, "running")));
    } catch (error) {
      const deferral = instanceDeferral(error);
      if (deferral) throw deferral;
      if (error instanceof PermanentJobError || job.attempts >= job.maxAttempts)
        await failBackup(
          services,
          tenantId,
          backupId,
          error instanceof Error ? error.message : String(error),
        );
      throw error;
    }
  };
}

/** Marks a backup failed and removes whatever of its snapshot was written. */
export async function failBackup(services: Services, tenantId: string, backupId: string, reason: string) {
  await services.db
    .update(backups)
    .set({ status: "failed", failureReason: reason.slice(0, 2_000) })
    .where(and(eq(backups.id, backupId), eq(backups.status, "running")));
  await services.blobs.deletePrefix(snapshotPrefix(tenantId, backupId)).catch((error: unknown) => {
    services.logger.warn({ err: error, backupId }, "could not remove a failed backup's parts");
  });
}

async function writeSnapshot(
  services: Services,
  job: JobSnapshot,
  tenantId: string,
  backupId: string,
  { signal, reportProgress }: JobContext,
): Promise<Manifest> {
  const chroma = new TenantChroma(workerCtx(services, job.id), tenantId);
  const prefix = snapshotPrefix(tenantId, backupId);
  const writer = new PartWriter(services.blobs, prefix);
  const collections = (await chroma.listCollections()).filter(
    (collection) => !collection.name.startsWith(STAGING_PREFIX),
  );
  const sizes = await Promise.all(collections.map((collection) => chroma.count(collection.id)));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  await reportProgress(0, total);
  const exported: ExportCollection[] = [];
  let done = 0;
  for (const [index, collection] of collections.entries()) {
    let count = 0;
    for (let offset = 0; ; offset += READ_PAGE) {
      signal.throwIfAborted();
      const page = await chroma.getPage(collection.id, offset, READ_PAGE);
      for (const [i, id] of page.ids.entries()) {
        await writer.add(`records-${index}`, "records", collection.name, {
          type: "record",
          collection: collection.name,
          id,
          embedding: page.embeddings[i] ?? [],
          document: page.documents[i] ?? null,
          metadata: page.metadatas[i] ?? null,
        });
      }
      count += page.ids.length;
      done += page.ids.length;
      await reportProgress(done, Math.max(total, done));
      if (page.ids.length < READ_PAGE) break;
    }
    await writer.flush(`records-${index}`, "records", collection.name);
    exported.push({
      name: collection.name,
      metadata: collection.metadata,
      configuration: collection.configuration,
      count,
    });
  }
  const { documentCount, chunkCount } = await writeControlRows(services, tenantId, writer);
  const counts: BackupCounts = {
    collections: exported.length,
    records: done,
    documents: documentCount,
    chunks: chunkCount,
  };
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    tenantId,
    backupId,
    createdAt: new Date(job.createdAt).toISOString(),
    collections: exported,
    counts,
  };
  const manifest: Manifest = { header, parts: writer.parts };
  // The commit point: without this object the snapshot does not exist.
  await services.blobs.put(manifestKey(tenantId, backupId), Buffer.from(JSON.stringify(manifest)), {
    contentType: "application/json",
  });
  return manifest;
}

/** The tenant's documents and chunks as of one moment (a repeatable-read transaction). */
async function writeControlRows(services: Services, tenantId: string, writer: PartWriter) {
  let documentCount = 0;
  let chunkCount = 0;
  await services.db.transaction(
    async (tx) => {
      let after = "";
      for (;;) {
        const rows = await tx
          .select()
          .from(documents)
          .where(and(eq(documents.tenantId, tenantId), gt(documents.id, after)))
          .orderBy(asc(documents.id))
          .limit(ROW_PAGE);
        for (const row of rows) {
          // As the API shows it, less what belongs to where it is kept (tenant) or to now.
          const {
            tenantId: _tenantId,
            progress: _progress,
            updatedAt: _updatedAt,
            ...document
          } = toDocument(row);
          await writer.add("control", "control", null, { type: "document", ...document });
        }
        documentCount += rows.length;
        if (rows.length < ROW_PAGE) break;
        after = rows.at(-1)!.id;
        await yieldToEventLoop();
      }
      after = "";
      for (;;) {
        const rows = await tx
          .select()
          .from(chunks)
          .where(and(eq(chunks.tenantId, tenantId), gt(chunks.id, after)))
          .orderBy(asc(chunks.id))
          .limit(ROW_PAGE);
        for (const row of rows) {
          await writer.add("control", "control", null, {
            type: "chunk",
            id: row.id,
            documentId: row.documentId,
            index: row.index,
            text: row.text,
            tokenCount: row.tokenCount,
            page: row.page,
            heading: row.heading,
          });
        }
        chunkCount += rows.length;
        if (rows.length < ROW_PAGE) break;
        after = rows.at(-1)!.id;
        await yieldToEventLoop();
      }
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
  await writer.flush("control", "control", null);
  return { documentCount, chunkCount };
}
