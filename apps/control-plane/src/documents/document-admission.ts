import { AppError } from "@vdb/http/errors";
import { PLANS, type Plan, type PlanQuotas } from "@vdb/schemas/plans";
import { count, eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import { databaseChunking } from "../databases/to-database";
import type { Ctx } from "../lib/context";
import type { Database } from "../lib/db/client";
import { documents } from "../lib/db/schema";
import { findTenantOrThrow } from "../tenants/to-tenant";
import { INGEST_JOB } from "./ingest-job";
import { assertIngestionQueueHasRoom } from "./ingestion-queue";
import { megabytes } from "./receive-files";

/*
 * What every way of adding a document checks and does before its row is written: the plan's
 * count and size, room in the ingestion queue, the chunking it gets, and its ingestion job.
 */

/** Room in the tenant's ingestion queue for `adding` more (429 with Retry-After when not). */
export function assertQueueHasRoom(ctx: Ctx, tenantId: string, adding = 1) {
  const { db, config } = ctx.services;
  return assertIngestionQueueHasRoom(db, tenantId, config.INGEST_QUEUE_MAX_PER_TENANT, adding);
}

/** The plan's limits for a new document: count and size. Nothing is written when they refuse. */
export async function assertCanAddDocument(db: Database, tenantId: string, sizeBytes: number) {
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

/** The documents a tenant keeps, whatever their state: what its plan's `maxDocuments` counts. */
export async function countDocuments(db: Database, tenantId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(documents).where(eq(documents.tenantId, tenantId));
  return row?.n ?? 0;
}

/** The plan's document count leaves room for `adding` more. */
export async function assertRoomFor(
  db: Database,
  tenantId: string,
  plan: PlanQuotas & { title: string },
  adding: number,
) {
  if ((await countDocuments(db, tenantId)) + adding > plan.maxDocuments) {
    throw new AppError({
      code: "QUOTA_EXCEEDED",
      message: `The ${plan.title} plan holds at most ${plan.maxDocuments} documents; delete some or upgrade. Nothing was stored.`,
    });
  }
}

/**
 * The count again, in the transaction that inserts `adding` documents, with the tenant's row
 * locked: concurrent uploads of one tenant take turns here, so two cannot both take its last
 * place. (The checks above, before any byte is read or stored, are the early answer.)
 */
export async function holdRoomFor(tx: Database, tenantId: string, adding: number) {
  const tenant = await findTenantOrThrow(tx, tenantId, { lock: true });
  await assertRoomFor(tx, tenantId, PLANS[tenant.plan], adding);
}

/**
 * The chunking a new document gets: its collection's, when a named database owns the collection
 * (all of a database's documents are cut alike), else what the request asked for.
 */
export async function chunkingFor(
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

export async function enqueueIngestion(ctx: Ctx, db: Database, document: { id: string; tenantId: string }) {
  await ctx.services.jobs.enqueue(
    { kind: INGEST_JOB, tenantId: document.tenantId, payload: { documentId: document.id } },
    db,
  );
}
