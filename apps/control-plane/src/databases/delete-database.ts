import { AppError } from "@vdb/http/errors";
import { DatabaseRef } from "@vdb/schemas/databases";
import { and, eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import { servingInstance } from "../instances/serving-instance";
import type { Ctx } from "../lib/context";
import { databases, documents } from "../lib/db/schema";
import { findDatabaseOrThrow } from "./to-database";

/**
 * Deletes a database: its collection in the instance first (if that fails, everything stays),
 * then its documents' files and rows, then the database. Refused while a document is being
 * ingested into it.
 */
export async function deleteDatabase({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: DatabaseRef;
}): Promise<{ deleted: true; documents: number }> {
  const { tenantId, databaseId } = DatabaseRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "write");
  const { db, blobs } = ctx.services;
  const row = await findDatabaseOrThrow(db, tenantId, databaseId);
  const inDatabase = and(eq(documents.tenantId, tenantId), eq(documents.collection, row.name));
  const docs = await db
    .select({ id: documents.id, status: documents.status, blobKey: documents.blobKey })
    .from(documents)
    .where(inDatabase);
  if (docs.some((doc) => doc.status === "processing")) {
    throw new AppError({
      code: "CONFLICT",
      message: "A document is being ingested into this database; delete it when that ends",
    });
  }
  const instance = await servingInstance(db, tenantId);
  if (instance) {
    const result = await ctx.services.instances.call(ctx, {
      tenantId,
      scope: "write",
      method: "DELETE",
      path: `/collections/${encodeURIComponent(row.name)}`,
    });
    if (result.status >= 400 && result.status !== 404) {
      throw new AppError({
        code: "SERVICE_UNAVAILABLE",
        message: "The instance did not delete the collection; try again",
      });
    }
  }
  for (const doc of docs) if (doc.blobKey) await blobs.delete(doc.blobKey);
  await db.transaction(async (tx) => {
    await tx.delete(documents).where(inDatabase);
    await tx.delete(databases).where(eq(databases.id, row.id));
    await recordAudit({ ctx, db: tx, input: { tenantId, action: "database.delete", targetId: row.id } });
  });
  return { deleted: true, documents: docs.length };
}
