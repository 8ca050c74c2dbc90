import { type Database, DatabaseRef, type DatabaseStatus, ListDatabasesInput } from "@vdb/schemas/databases";
import { and, asc, count, desc, eq, sql } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { databases, documents } from "../lib/db/schema";
import { findDatabaseOrThrow, toDatabase } from "./to-database";

/** The tenant's named databases, oldest first (a tenant has few; no paging needed). */
export async function listDatabases({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: ListDatabasesInput;
}): Promise<Database[]> {
  const { tenantId } = ListDatabasesInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const rows = await ctx.services.db
    .select()
    .from(databases)
    .where(eq(databases.tenantId, tenantId))
    .orderBy(asc(databases.createdAt), asc(databases.id));
  return rows.map(toDatabase);
}

export async function getDatabase({ ctx, input }: { ctx: Ctx; input: DatabaseRef }): Promise<Database> {
  const { tenantId, databaseId } = DatabaseRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  return toDatabase(await findDatabaseOrThrow(ctx.services.db, tenantId, databaseId));
}

const MAX_FAILURES = 20;

/** Seed 004, step 2: how far ingestion into the database has got (poll it). */
export async function getDatabaseStatus({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: DatabaseRef;
}): Promise<DatabaseStatus> {
  const { tenantId, databaseId } = DatabaseRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const { db } = ctx.services;
  const row = await findDatabaseOrThrow(db, tenantId, databaseId);
  const inDatabase = and(eq(documents.tenantId, tenantId), eq(documents.collection, row.name));
  const groups = await db
    .select({
      status: documents.status,
      n: count(),
      chunks: sql<number>`coalesce(sum(${documents.chunkCount}), 0)::int`,
    })
    .from(documents)
    .where(inDatabase)
    .groupBy(documents.status);
  const counts = { total: 0, uploading: 0, queued: 0, processing: 0, ready: 0, failed: 0 };
  let chunks = 0;
  for (const group of groups) {
    counts[group.status] = Number(group.n);
    counts.total += Number(group.n);
    if (group.status === "ready") chunks += Number(group.chunks);
  }
  const failures =
    counts.failed === 0
      ? []
      : await db
          .select({ documentId: documents.id, title: documents.title, reason: documents.failureReason })
          .from(documents)
          .where(and(inDatabase, eq(documents.status, "failed")))
          .orderBy(desc(documents.updatedAt))
          .limit(MAX_FAILURES);
  return { database: toDatabase(row), state: stateOf(counts), documents: counts, chunks, failures };
}

function stateOf(counts: DatabaseStatus["documents"]): DatabaseStatus["state"] {
  if (counts.total === 0) return "empty";
  if (counts.uploading + counts.queued + counts.processing > 0) return "processing";
  if (counts.failed === 0) return "ready";
  return counts.ready === 0 ? "failed" : "partial";
}
