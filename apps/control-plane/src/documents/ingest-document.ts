import { AppError } from "@vdb/http/errors";
import { type Document, DocumentRef } from "@vdb/schemas/documents";
import { PLANS } from "@vdb/schemas/plans";
import { eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { documents } from "../lib/db/schema";
import { findTenantOrThrow } from "../tenants/to-tenant";
import { assertQueueHasRoom, enqueueIngestion } from "./document-admission";
import { megabytes } from "./receive-files";
import { reconcileIngestions } from "./reconcile-ingestions";
import { findDocumentOrThrow, latestIngestJob, toDocument } from "./to-document";

/**
 * Seed 003, step 2 (and re-ingest): the file is in the blob store; check it against the plan
 * and queue its ingestion. Re-ingesting a ready or failed document runs the pipeline again.
 */
export async function ingestDocument({ ctx, input }: { ctx: Ctx; input: DocumentRef }): Promise<Document> {
  const { tenantId, documentId } = DocumentRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "write");
  const { db, blobs } = ctx.services;
  const document = await findDocumentOrThrow(db, tenantId, documentId);
  // The job decides, not the document's status: a status its job could not record (a full
  // disk, a lost worker) must not lock the document forever.
  const job = await latestIngestJob(db, documentId);
  if (job?.status === "queued" || job?.status === "running") {
    throw new AppError({
      code: "CONFLICT",
      message: `The document is already being ingested (job ${job.id}, ${job.status}, attempt ${job.attempts} of ${job.maxAttempts})`,
    });
  }
  // Settle what a dead job left: the document failed, its partial chunks out of the instance.
  await reconcileIngestions(ctx.services, { documentId });
  await assertQueueHasRoom(ctx, tenantId);
  const stored = document.blobKey ? await blobs.stat(document.blobKey) : null;
  if (!stored) {
    throw new AppError({
      code: "CONFLICT",
      message: "The file has not been uploaded yet: PUT it to the upload URL first",
    });
  }
  const tenant = await findTenantOrThrow(db, tenantId);
  // S3 presigned uploads cannot enforce a size: check what actually arrived.
  if (stored.sizeBytes > PLANS[tenant.plan].maxUploadBytes) {
    await blobs.delete(document.blobKey!);
    throw new AppError({
      code: "PAYLOAD_TOO_LARGE",
      message: `The uploaded file is ${megabytes(stored.sizeBytes)}; the plan allows ${megabytes(PLANS[tenant.plan].maxUploadBytes)}`,
    });
  }
  const row = await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(documents)
      .set({ status: "queued", sizeBytes: stored.sizeBytes, failureReason: null, updatedAt: sql`now()` })
      .where(eq(documents.id, documentId))
      .returning();
    await enqueueIngestion(ctx, tx, updated!);
    await recordAudit({ ctx, db: tx, input: { tenantId, action: "document.ingest", targetId: documentId } });
    return updated!;
  });
  ctx.services.jobs.nudge();
  return toDocument(row, { done: 0, total: 0 });
}
