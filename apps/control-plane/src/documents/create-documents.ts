import { AppError } from "@vdb/http/errors";
import {
  CreatedUpload,
  CreateTextDocumentInput,
  CreateUploadInput,
  type Document,
  DocumentRef,
} from "@vdb/schemas/documents";
import { newId } from "@vdb/schemas/ids";
import { PLANS } from "@vdb/schemas/plans";
import { count, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import { databaseChunking } from "../databases/to-database";
import type { Ctx } from "../lib/context";
import type { Database } from "../lib/db/client";
import { documents } from "../lib/db/schema";
import { findTenantOrThrow } from "../tenants/to-tenant";
import { INGEST_JOB } from "./ingest-job";
import { findDocumentOrThrow, toDocument } from "./to-document";

const blobKey = (tenantId: string, documentId: string) => `tenants/${tenantId}/documents/${documentId}`;
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

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
  const [row] = await db.select({ n: count() }).from(documents).where(eq(documents.tenantId, tenantId));
  if ((row?.n ?? 0) >= plan.maxDocuments) {
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
  const key = blobKey(document.tenantId, id);
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
  const chunking = await chunkingFor(db, data);
  const id = newId("document");
  const key = blobKey(data.tenantId, id);
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
  if (document.status === "queued" || document.status === "processing") {
    throw new AppError({ code: "CONFLICT", message: "The document is already being ingested" });
  }
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

export interface UploadedFile {
  filename: string;
  contentType: string | null;
  bytes: Uint8Array;
}

/**
 * A direct multipart upload: each file is checked against the plan, stored and queued. All are
 * checked before any is stored, so a refused file leaves nothing of the request behind.
 */
export async function createFromFiles({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: {
    tenantId: string;
    files: UploadedFile[];
    collection?: string;
    chunkSize?: number;
    chunkOverlap?: number;
  };
}): Promise<Document[]> {
  const settings = CreateUploadInput.parse({
    tenantId: input.tenantId,
    filename: "x",
    sizeBytes: 1,
    ...(input.collection ? { collection: input.collection } : {}),
    ...(input.chunkSize ? { chunkSize: input.chunkSize } : {}),
    ...(input.chunkOverlap !== undefined ? { chunkOverlap: input.chunkOverlap } : {}),
  });
  requireTenantScope(ctx.principal, input.tenantId, "write");
  if (input.files.length === 0 || input.files.length > 20) {
    throw new AppError({ code: "BAD_REQUEST", message: "Send between 1 and 20 files in the `file` field" });
  }
  const { db } = ctx.services;
  for (const file of input.files) {
    CreateUploadInput.parse({
      tenantId: input.tenantId,
      filename: file.filename,
      sizeBytes: Math.max(1, file.bytes.length),
    });
    await assertCanAddDocument(db, input.tenantId, file.bytes.length);
  }
  const chunking = await chunkingFor(db, settings);
  const created: Document[] = [];
  for (const file of input.files) {
    const document = {
      tenantId: input.tenantId,
      collection: settings.collection,
      title: file.filename,
      filename: file.filename,
      contentType: file.contentType,
      source: "upload" as const,
      ...chunking,
      metadata: {},
    };
    created.push(await storeAndQueue(ctx, document, file.bytes, "document.upload"));
  }
  return created;
}
