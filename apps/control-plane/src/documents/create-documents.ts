import { AppError } from "@vdb/http/errors";
import {
  CreatedUpload,
  CreateTextDocumentInput,
  CreateUploadInput,
  type Document,
  DocumentRef,
} from "@vdb/schemas/documents";
import { newId } from "@vdb/schemas/ids";
import { PLANS, type Plan, type PlanQuotas } from "@vdb/schemas/plans";
import { count, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import { databaseChunking } from "../databases/to-database";
import type { Ctx } from "../lib/context";
import type { Database } from "../lib/db/client";
import { documents } from "../lib/db/schema";
import { findTenantOrThrow } from "../tenants/to-tenant";
import { INGEST_JOB } from "./ingest-job";
import { assertIngestionQueueHasRoom } from "./ingestion-queue";
import {
  blobKeyOf,
  deleteReceived,
  MAX_FILES_PER_REQUEST,
  megabytes,
  type ReceivedFile,
} from "./receive-files";
import { reconcileIngestions } from "./reconcile-ingestions";
import { findDocumentOrThrow, latestIngestJob, toDocument } from "./to-document";

/** Room in the tenant's ingestion queue for `adding` more (429 with Retry-After when not). */
function assertQueueHasRoom(ctx: Ctx, tenantId: string, adding = 1) {
  const { db, config } = ctx.services;
  return assertIngestionQueueHasRoom(db, tenantId, config.INGEST_QUEUE_MAX_PER_TENANT, adding);
}

/** The plan's limits for a new document: count and size. Nothing is written when they refuse. */
async function assertCanAddDocument(db: Database, tenantId: string, sizeBytes: number) {
  const tenant = await findTenantOrThrow(db, tenantId);
  const plan = PLANS[tenant.plan];
  if (sizeBytes > plan.maxUploadBytes) {
    throw new AppError({
      code: "PAYLOAD_TOO_LARGE",
      message: `The file is ${megabytes(sizeBytes)}; the ${plan.title} plan allows ${megabytes(plan.maxUploadBytes)} per file`,
    });
  }
  await assertRoomFor(db, tenantId, plan, 1);
}

/**
 * Everything a multipart upload can be refused for before its body is read: credentials, the
 * tenant's write scope, its plan's document count and room in its ingestion queue. Returns the tenant's plan, whose size
 * per file `receiveFiles` then enforces while streaming.
 */
export async function admitFileUpload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { tenantId: string };
}): Promise<Plan> {
  requireTenantScope(ctx.principal, input.tenantId, "write");
  const tenant = await findTenantOrThrow(ctx.services.db, input.tenantId);
  await assertRoomFor(ctx.services.db, input.tenantId, PLANS[tenant.plan], 1);
  await assertQueueHasRoom(ctx, input.tenantId);
  return tenant.plan;
}

/** The plan's document count leaves room for `adding` more. */
async function assertRoomFor(
  db: Database,
  tenantId: string,
  plan: PlanQuotas & { title: string },
  adding: number,
) {
  const [row] = await db.select({ n: count() }).from(documents).where(eq(documents.tenantId, tenantId));
  if ((row?.n ?? 0) + adding > plan.maxDocuments) {
    throw new AppError({
      code: "QUOTA_EXCEEDED",
      message: `The ${plan.title} plan holds at most ${plan.maxDocuments} documents; delete some or upgrade. Nothing was stored.`,
    });
  }
}

/**
 * The chunking a new document gets: its collection's, when a named database owns the collection
 * (all of a database's documents are cut alike), else what the request asked for.
 */
async function chunkingFor(
  db: Database,
  data: { tenantId: string; collection: string; chunkSize: number; chunkOverlap: number },
): Promise<{ chunkSize: number; chunkOverlap: number }> {
  return (
    (await databaseChunking(db, data.tenantId, data.collection)) ?? {
      chunkSize: data.chunkSize,
      chunkOverlap: data.chunkOverlap,
    }
  );
}

async function enqueueIngestion(ctx: Ctx, db: Database, document: { id: string; tenantId: string }) {
  await ctx.services.jobs.enqueue(
    { kind: INGEST_JOB, tenantId: document.tenantId, payload: { documentId: document.id } },
    db,
  );
}

type NewDocument = Omit<typeof documents.$inferInsert, "id" | "blobKey" | "status" | "sizeBytes">;

/**
 * Stores a document's bytes, inserts it as `queued` and enqueues its ingestion, audited, in one
 * transaction. If the row does not land, the stored bytes are removed: nothing half-written.
 */
async function storeAndQueue(
  ctx: Ctx,
  document: NewDocument,
  bytes: Uint8Array,
  action: string,
): Promise<Document> {
  const { db, blobs } = ctx.services;
  const id = newId("document");
  const key = blobKeyOf(document.tenantId, id);
  await blobs.put(key, bytes, document.contentType ? { contentType: document.contentType } : {});
  try {
    const row = await db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(documents)
        .values({ ...document, id, blobKey: key, sizeBytes: bytes.length, status: "queued" })
        .returning();
      await enqueueIngestion(ctx, tx, inserted!);
      await recordAudit({ ctx, db: tx, input: { tenantId: document.tenantId, action, targetId: id } });
      return inserted!;
    });
    ctx.services.jobs.nudge();
    return toDocument(row, { done: 0, total: 0 });
  } catch (error) {
    await blobs.delete(key).catch(() => {});
    throw error;
  }
}

/** `POST /api/v1/docs`: text or a JSON value, stored and queued for ingestion in one step. */
export async function createTextDocument({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: CreateTextDocumentInput;
}): Promise<Document> {
  const data = CreateTextDocumentInput.parse(input);
  requireTenantScope(ctx.principal, data.tenantId, "write");
  const isJson = data.json !== undefined;
  const bytes = new TextEncoder().encode(isJson ? JSON.stringify(data.json, null, 2) : data.text!);
  await assertCanAddDocument(ctx.services.db, data.tenantId, bytes.length);
  await assertQueueHasRoom(ctx, data.tenantId);
  const chunking = await chunkingFor(ctx.services.db, data);
  return storeAndQueue(
    ctx,
    {
      tenantId: data.tenantId,
      collection: data.collection,
      title: data.title,
      filename: isJson ? "document.json" : "document.txt",
      contentType: isJson ? "application/json" : "text/plain",
      source: isJson ? "json" : "text",
      ...chunking,
      metadata: data.metadata,
    },
    bytes,
    "document.create",
  );
}

/** Seed 003, step 1: a document awaiting its file, and a URL to PUT the file to. */
export async function createUpload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: CreateUploadInput;
}): Promise<CreatedUpload> {
  const data = CreateUploadInput.parse(input);
  requireTenantScope(ctx.principal, data.tenantId, "write");
  const { db, blobs, config } = ctx.services;
  await assertCanAddDocument(db, data.tenantId, data.sizeBytes);
  // Refused before the file is sent, rather than at `…/ingest` after it was.
  await assertQueueHasRoom(ctx, data.tenantId);
  const chunking = await chunkingFor(db, data);
  const id = newId("document");
  const key = blobKeyOf(data.tenantId, id);
  const upload = await blobs.createUploadUrl(key, {
    ...(data.contentType ? { contentType: data.contentType } : {}),
    maxBytes: data.sizeBytes,
    expiresInSeconds: config.UPLOAD_URL_TTL_SECONDS,
  });
  const row = await db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(documents)
      .values({
        id,
        tenantId: data.tenantId,
        collection: data.collection,
        title: data.title ?? data.filename,
        filename: data.filename,
        contentType: data.contentType ?? null,
        sizeBytes: data.sizeBytes,
        blobKey: key,
        source: "upload",
        status: "uploading",
        ...chunking,
        metadata: data.metadata,
      })
      .returning();
    await recordAudit({
      ctx,
      db: tx,
      input: { tenantId: data.tenantId, action: "document.upload", targetId: id },
    });
    return inserted!;
  });
  return CreatedUpload.parse({ document: toDocument(row), upload });
}

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

/**
 * A direct multipart upload, its files already streamed to the blob store by `receiveFiles`:
 * each becomes a queued document, all in one transaction. If any is refused (the plan's
 * document count, a bad setting) none is created and the stored files are deleted: nothing of
 * the request is left behind.
 */
export async function createFromFiles({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: {
    tenantId: string;
    files: ReceivedFile[];
    collection?: string;
    chunkSize?: number;
    chunkOverlap?: number;
  };
}): Promise<Document[]> {
  try {
    const settings = CreateUploadInput.parse({
      tenantId: input.tenantId,
      filename: "x",
      sizeBytes: 1,
      ...(input.collection ? { collection: input.collection } : {}),
      ...(input.chunkSize ? { chunkSize: input.chunkSize } : {}),
      ...(input.chunkOverlap !== undefined ? { chunkOverlap: input.chunkOverlap } : {}),
    });
    requireTenantScope(ctx.principal, input.tenantId, "write");
    if (input.files.length === 0 || input.files.length > MAX_FILES_PER_REQUEST) {
      throw new AppError({
        code: "BAD_REQUEST",
        message: `Send between 1 and ${MAX_FILES_PER_REQUEST} files in the \`file\` field`,
      });
    }
    const { db } = ctx.services;
    const plan = PLANS[(await findTenantOrThrow(db, input.tenantId)).plan];
    // receiveFiles cut each file off at the plan's size; the count is checked for all at once.
    await assertRoomFor(db, input.tenantId, plan, input.files.length);
    await assertQueueHasRoom(ctx, input.tenantId, input.files.length);
    const chunking = await chunkingFor(db, settings);
    const rows = await db.transaction(async (tx) => {
      const inserted = [];
      for (const file of input.files) {
        const [row] = await tx
          .insert(documents)
          .values({
            id: file.documentId,
            tenantId: input.tenantId,
            collection: settings.collection,
            title: file.filename,
            filename: file.filename,
            contentType: file.contentType,
            sizeBytes: file.sizeBytes,
            blobKey: file.blobKey,
            source: "upload",
            status: "queued",
            ...chunking,
            metadata: {},
          })
          .returning();
        await enqueueIngestion(ctx, tx, row!);
        await recordAudit({
          ctx,
          db: tx,
          input: { tenantId: input.tenantId, action: "document.upload", targetId: row!.id },
        });
        inserted.push(row!);
      }
      return inserted;
    });
    ctx.services.jobs.nudge();
    return rows.map((row) => toDocument(row, { done: 0, total: 0 }));
  } catch (error) {
    await deleteReceived(ctx, input.files);
    throw error;
  }
}
