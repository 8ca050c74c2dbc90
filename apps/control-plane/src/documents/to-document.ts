import { AppError } from "@vdb/http/errors";
import type { Chunk, Document } from "@vdb/schemas/documents";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { type chunks, documents, jobs } from "../lib/db/schema";

type DocumentRow = typeof documents.$inferSelect;

export function toDocument(
  row: DocumentRow,
  progress: { done: number; total: number } | null = null,
): Document {
  return {
    id: row.id,
    tenantId: row.tenantId,
    collection: row.collection,
    title: row.title,
    filename: row.filename,
    contentType: row.contentType,
    sizeBytes: row.sizeBytes,
    source: row.source,
    status: row.status,
    failureReason: row.failureReason,
    chunkCount: row.chunkCount,
    truncatedChunks: row.truncatedChunks,
    chunkSize: row.chunkSize,
    chunkOverlap: row.chunkOverlap,
    metadata: row.metadata,
    progress: row.status === "queued" || row.status === "processing" ? progress : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toChunk(row: typeof chunks.$inferSelect): Chunk {
  return {
    id: row.id,
    index: row.index,
    text: row.text,
    tokenCount: row.tokenCount,
    page: row.page,
    heading: row.heading,
  };
}

/** A tenant's document, or NOT_FOUND (also for another tenant's id: ids are not probeable). */
export async function findDocumentOrThrow(
  db: Database,
  tenantId: string,
  documentId: string,
): Promise<DocumentRow> {
  const [row] = await db
    .select()
    .from(documents)
    .where(and(eq(documents.id, documentId), eq(documents.tenantId, tenantId)))
    .limit(1);
  if (!row)
    throw new AppError({
      code: "NOT_FOUND",
      message: `Document ${documentId} does not exist in this tenant`,
    });
  return row;
}

/** The document's latest ingestion job, if any: the one that says whether it is being ingested. */
export async function latestIngestJob(db: Database, documentId: string) {
  const [job] = await db
    .select({
      id: jobs.id,
      status: jobs.status,
      attempts: jobs.attempts,
      maxAttempts: jobs.maxAttempts,
      done: jobs.progressDone,
      total: jobs.progressTotal,
    })
    .from(jobs)
    .where(and(eq(jobs.kind, "ingest"), sql`${jobs.payload}->>'documentId' = ${documentId}`))
    .orderBy(desc(jobs.createdAt))
    .limit(1);
  return job ?? null;
}

/** Progress of the document's latest ingestion job, if any. */
export async function ingestionProgress(db: Database, documentId: string) {
  const job = await latestIngestJob(db, documentId);
  return job ? { done: job.done, total: job.total } : null;
}

/**
 * `ingestionProgress` of several documents in one query (a listing's queued and processing
 * ones): each document's latest ingestion job's progress, by document id.
 */
export async function ingestionProgressOf(
  db: Database,
  documentIds: string[],
): Promise<Map<string, { done: number; total: number }>> {
  const progress = new Map<string, { done: number; total: number }>();
  if (documentIds.length === 0) return progress;
  const documentId = sql<string>`${jobs.payload}->>'documentId'`;
  const rows = await db
    .select({ documentId, done: jobs.progressDone, total: jobs.progressTotal })
    .from(jobs)
    .where(and(eq(jobs.kind, "ingest"), inArray(documentId, documentIds)))
    .orderBy(desc(jobs.createdAt));
  // Newest first: the first row of a document is its latest job.
  for (const { documentId, done, total } of rows) {
    if (!progress.has(documentId)) progress.set(documentId, { done, total });
  }
  return progress;
}
