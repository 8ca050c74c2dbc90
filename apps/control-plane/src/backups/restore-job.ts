import { createHash } from "node:crypto";
import { AppError } from "@vdb/http/errors";
import type { ExportChunk, ExportDocument, ExportRecord } from "@vdb/schemas/backups";
import { PLANS } from "@vdb/schemas/plans";
import { and, eq, inArray } from "drizzle-orm";
import { type JobHandler, PermanentJobError } from "../jobs/job-queue";
import type { JobSnapshot } from "../jobs/schemas";
import { runInOrder, yieldToEventLoop } from "../lib/concurrency";
import { workerCtx } from "../lib/context";
import { chunks, documents, jobs, tenants } from "../lib/db/schema";
import type { Services } from "../services";
import { instanceDeferral } from "./backup-job";
import { type Manifest, readManifest, readPart, type SnapshotPart } from "./snapshot";
import { STAGING_PREFIX, TenantChroma } from "./tenant-chroma";

export const RESTORE_JOB = "restore";
/**
 * Records per upsert: a whole part (PART_LINES), well under Chroma's ~5,461 batch limit. Chroma
 * spent about 10% less CPU per record on upserts of 2,000 than of 1,000 (5,000: no better).
 */
const WRITE_BATCH = 2_000;
/** Upserts sent before the first of them is answered. */
const WRITES_IN_FLIGHT = 2;
const INSERT_BATCH = 100;

/** The staging collection for the backup's collection number `index`, fixed by the job. */
export function stagingName(jobId: string, index: number): string {
  return `${STAGING_PREFIX}${jobId.slice(4, 16)}-${index}`;
}

const ALPHABET = "0123456789abcdefghijkmnopqrstuvwxyz";

/**
 * A document's id in the tenant it is restored into: its own when a tenant gets its own backup
 * back; otherwise a new id (ids are global), derived from the job and the old id so every attempt
 * picks the same.
 */
function documentIdMap(job: JobSnapshot, keepsIds: boolean) {
  return (id: string): string => {
    if (keepsIds) return id;
    const digest = createHash("sha256").update(`${job.id}:${id}`).digest();
    let body = "";
    for (let i = 0; i < 20; i++) body += ALPHABET[digest[i]! % ALPHABET.length];
    return `doc_${body}`;
  };
}

const CHUNK_ID = /^(doc_[0-9a-z]{20}):(\d+)$/;

/**
 * One restore attempt, crash-safe by construction:
 *
 * 1. **Stage**: each of the backup's collections is written into a fresh staging collection
 *    (`vdb-restore-<job>-<n>`, upserts: a repeated attempt writes the same records again).
 *    The tenant's data is untouched and keeps serving.
 * 2. **Swap**: per collection, the tenant's one of that name is deleted and the staging one renamed
 *    to it; the tenant's collections the backup does not have are deleted.
 * 3. **Rows**: the tenant's document and chunk rows are replaced in one transaction.
 *
 * Killed in 1, the tenant's previous data is intact; killed in 2 or 3, the next attempt (the
 * queue retries the job when its lease lapses) starts over from the immutable backup and finishes.
 */
export function restoreHandler(services: Services): JobHandler {
  return async (job, { signal, reportProgress }) => {
    const backupId = String(job.payload.backupId);
    const sourceTenantId = String(job.payload.sourceTenantId);
    const targetTenantId = String(job.payload.targetTenantId);
    let manifest: Manifest;
    try {
      manifest = await readManifest(services.blobs, sourceTenantId, backupId);
    } catch (error) {
      if (error instanceof AppError && error.code === "NOT_FOUND")
        throw new PermanentJobError("the backup no longer exists");
      throw error;
    }
    try {
      await assertRestoreFits(services, targetTenantId, manifest.header.counts.records);
    } catch (error) {
      if (error instanceof AppError) throw new PermanentJobError(error.message);
      throw error;
    }
    try {
      const chroma = new TenantChroma(workerCtx(services, job.id), targetTenantId);
      // Ids are kept only when a tenant gets its own backup back; an import may hold ids in use.
      const keepsIds = job.payload.keepsIds === true && sourceTenantId === targetTenantId;
      const mapId = documentIdMap(job, keepsIds);
      const mapRecordId = (id: string) => {
        const match = CHUNK_ID.exec(id);
        return match ? `${mapId(match[1]!)}:${match[2]}` : id;
      };
      const { collections } = manifest.header;
      const total = manifest.header.counts.records;
      await reportProgress(0, total);

      // 1. Stage.
      let existing = await chroma.listCollections();
      const stagingIds: string[] = [];
      for (const [index, collection] of collections.entries()) {
        const name = stagingName(job.id, index);
        const staging =
          existing.find((candidate) => candidate.name === name) ??
          (await chroma.createCollection(name, collection.metadata, collection.configuration));
        stagingIds.push(staging.id);
      }
      const batches = stagingBatches(manifest);
      const reader = new PartReader(services, manifest);
      let done = 0;
      // Batches in flight side by side: while the instance and Chroma index one, the next part is
      // read and parsed and the next body serialised here (the instance writes them one at a time,
      // as restore writes: no per-batch quota check, see assertRestoreFits).
      await runInOrder(
        batches.length,
        WRITES_IN_FLIGHT,
        async (i) => {
          signal.throwIfAborted();
          const { collectionIndex, part, start } = batches[i]!;
          const lines = (await reader.read(part)).slice(start, start + WRITE_BATCH);
          await chroma.upsert(
            stagingIds[collectionIndex]!,
            {
              ids: lines.map((record) => mapRecordId(record.id)),
              embeddings: lines.map((record) => record.embedding),
              documents: lines.map((record) => record.document),
              metadatas: lines.map((record) => {
                const metadata = record.metadata;
                if (metadata && typeof metadata.documentId === "string")
                  return { ...metadata, documentId: mapId(metadata.documentId) };
                return metadata;
              }),
            },
            { asRestoreWrite: true },
          );
          return lines.length;
        },
        async (i, written) => {
          reader.release(batches[i]!);
          done += written;
          await reportProgress(done, Math.max(total, done));
        },
      );

      // 2. Swap.
      existing = await chroma.listCollections();
      const names = new Set(collections.map((collection) => collection.name));
      const stagingNames = new Set(collections.map((_, index) => stagingName(job.id, index)));
      for (const [index, collection] of collections.entries()) {
        const staging = existing.find((candidate) => candidate.name === stagingName(job.id, index));
        if (!staging) continue;
        if (existing.some((candidate) => candidate.name === collection.name))
          await chroma.deleteCollection(collection.name);
        await chroma.renameCollection(staging.id, collection.name);
      }
      for (const collection of existing) {
        // The tenant's collections the backup has not, and leftovers of earlier, failed restores
        // (restores of one tenant never run side by side).
        if (!names.has(collection.name) && !stagingNames.has(collection.name))
          await chroma.deleteCollection(collection.name);
      }

      // 3. Rows.
      await replaceRows(services, manifest, targetTenantId, keepsIds, mapId);
    } catch (error) {
      const deferral = instanceDeferral(error);
      if (deferral) throw deferral;
      throw error;
    }
  };
}

interface StagingBatch {
  collectionIndex: number;
  part: SnapshotPart;
  /** The batch's first line in its part. */
  start: number;
  /** Whether it is its part's last batch. */
  isLast: boolean;
}

/** Every record part of the backup cut into upserts of WRITE_BATCH, collection by collection. */
function stagingBatches(manifest: Manifest): StagingBatch[] {
  const batches: StagingBatch[] = [];
  for (const [collectionIndex, collection] of manifest.header.collections.entries()) {
    for (const part of manifest.parts) {
      if (part.kind !== "records" || part.collection !== collection.name) continue;
      for (let start = 0; start < part.lines; start += WRITE_BATCH)
        batches.push({ collectionIndex, part, start, isLast: start + WRITE_BATCH >= part.lines });
    }
  }
  return batches;
}

/**
 * The record parts a restore is writing, each read and parsed once, the next one read ahead while
 * the current one is written; a part is dropped once its last batch is written, so only a few
 * parts (a few MB each) are held at a time.
 */
class PartReader {
  private readonly reads = new Map<string, Promise<ExportRecord[]>>();
  private readonly order: SnapshotPart[];

  constructor(
    private readonly services: Services,
    manifest: Manifest,
  ) {
    this.order = manifest.parts.filter((part) => part.kind === "records");
  }

  read(part: SnapshotPart): Promise<ExportRecord[]> {
    const lines = this.start(part);
    const next = this.order[this.order.indexOf(part) + 1];
    if (next) this.start(next).catch(() => {}); // its own read reports a failure
    return lines;
  }

  release(batch: StagingBatch): void {
    if (batch.isLast) this.reads.delete(batch.part.key);
  }

  private start(part: SnapshotPart): Promise<ExportRecord[]> {
    let read = this.reads.get(part.key);
    if (!read) {
      read = readPart(this.services.blobs, part) as Promise<ExportRecord[]>;
      this.reads.set(part.key, read);
    }
    return read;
  }
}

async function replaceRows(
  services: Services,
  manifest: Manifest,
  tenantId: string,
  keepsIds: boolean,
  mapId: (id: string) => string,
): Promise<void> {
  const docs: ExportDocument[] = [];
  const chunkLines: ExportChunk[] = [];
  for (const part of manifest.parts) {
    if (part.kind !== "control") continue;
    for (const line of await readPart(services.blobs, part)) {
      if (line.type === "document") docs.push(line);
      else if (line.type === "chunk") chunkLines.push(line);
    }
  }
  await services.db.transaction(async (tx) => {
    // The original files stay where they are in the same tenant; another tenant gets none
    // (its documents can be read and searched, not re-ingested from the file).
    const blobKeys = new Map<string, string | null>();
    if (keepsIds) {
      const rows = await tx
        .select({ id: documents.id, blobKey: documents.blobKey })
        .from(documents)
        .where(eq(documents.tenantId, tenantId));
      for (const row of rows) blobKeys.set(row.id, row.blobKey);
    }
    await tx.delete(documents).where(eq(documents.tenantId, tenantId));
    for (let start = 0; start < docs.length; start += INSERT_BATCH) {
      if (start > 0) await yieldToEventLoop();
      const values = docs.slice(start, start + INSERT_BATCH).map((doc) => {
        const isSettled = doc.status === "ready" || doc.status === "failed";
        return {
          id: mapId(doc.id),
          tenantId,
          collection: doc.collection,
          title: doc.title,
          filename: doc.filename,
          contentType: doc.contentType,
          sizeBytes: doc.sizeBytes,
          blobKey: blobKeys.get(doc.id) ?? null,
          source: doc.source,
          // A document caught mid-ingestion by the backup has no job here to finish it.
          status: isSettled ? doc.status : ("failed" as const),
          failureReason: isSettled
            ? doc.failureReason
            : "restored from a backup taken while it was being ingested; ingest it again",
          chunkCount: doc.chunkCount,
          // Parts written before backups carried it have none: the line was stored as it came.
          truncatedChunks: doc.truncatedChunks ?? 0,
          chunkSize: doc.chunkSize,
          chunkOverlap: doc.chunkOverlap,
          metadata: doc.metadata,
          createdAt: new Date(doc.createdAt),
        };
      });
      await tx.insert(documents).values(values);
    }
    const known = new Set(docs.map((doc) => doc.id));
    const rows = chunkLines.filter((chunk) => known.has(chunk.documentId));
    for (let start = 0; start < rows.length; start += INSERT_BATCH) {
      await yieldToEventLoop();
      await tx.insert(chunks).values(
        rows.slice(start, start + INSERT_BATCH).map((chunk) => ({
          id: `${mapId(chunk.documentId)}:${chunk.index}`,
          documentId: mapId(chunk.documentId),
          tenantId,
          index: chunk.index,
          text: chunk.text,
          tokenCount: chunk.tokenCount,
          page: chunk.page,
          heading: chunk.heading,
        })),
      );
    }
  });
}

/**
 * A restore replaces the tenant's records with the backup's, so the backup must fit the tenant's
 * plan (MAX_DOCS). Checked once, here, for the whole restore: its upserts are restore writes,
 * which the instance does not check one by one (that check would count the data being replaced).
 */
export async function assertRestoreFits(
  services: Services,
  tenantId: string,
  records: number,
): Promise<void> {
  const [tenant] = await services.db
    .select({ plan: tenants.plan })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .limit(1);
  if (!tenant) throw new AppError({ code: "NOT_FOUND", message: "No such target tenant" });
  const { maxRecords, title } = PLANS[tenant.plan];
  if (records > maxRecords) {
    throw new AppError({
      code: "QUOTA_EXCEEDED",
      message: `The backup holds ${records} records; the tenant's plan (${title}) holds at most ${maxRecords}. Nothing was restored.`,
    });
  }
}

/** Whether a restore into `tenantId` is queued or running (they never run side by side). */
export async function isRestoreActive(services: Services, tenantId: string): Promise<boolean> {
  const [row] = await services.db
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.tenantId, tenantId),
        eq(jobs.kind, RESTORE_JOB),
        inArray(jobs.status, ["queued", "running"]),
      ),
    )
    .limit(1);
  return row !== undefined;
}
