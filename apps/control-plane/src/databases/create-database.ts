import { AppError } from "@vdb/http/errors";
import { CreateDatabaseInput, type Database } from "@vdb/schemas/databases";
import { newId } from "@vdb/schemas/ids";
import { Collection } from "@vdb/schemas/instances";
import { and, eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import { instanceRefusal } from "../data-plane/instance-answer";
import type { Ctx } from "../lib/context";
import { databases } from "../lib/db/schema";
import { toDatabase } from "./to-database";

/**
 * Seed 004, step 1: a named database: the collection is created in the tenant's running
 * instance with the chosen model (the instance refuses one it cannot run), then recorded with
 * its chunking. If recording fails, the new collection is removed again: nothing half-made.
 */
export async function createDatabase({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: CreateDatabaseInput;
}): Promise<Database> {
  const data = CreateDatabaseInput.parse(input);
  requireTenantScope(ctx.principal, data.tenantId, "write");
  const { db } = ctx.services;
  const [taken] = await db
    .select({ id: databases.id })
    .from(databases)
    .where(and(eq(databases.tenantId, data.tenantId), eq(databases.name, data.name)))
    .limit(1);
  if (taken)
    throw new AppError({ code: "CONFLICT", message: `A database named "${data.name}" already exists` });

  const created = await ctx.services.instances.call(ctx, {
    tenantId: data.tenantId,
    scope: "write",
    method: "POST",
    path: "/collections",
    body: {
      name: data.name,
      ...(data.model ? { model: data.model } : {}),
      ...(data.dimension ? { dimension: data.dimension } : {}),
    },
  });
  if (created.status === 409) {
    throw new AppError({
      code: "CONFLICT",
      message: `The instance already has a collection named "${data.name}"; choose another name`,
    });
  }
  if (created.status >= 400) throw instanceRefusal(created.status, created.body);
  const collection = Collection.parse(created.body);

  try {
    const row = await db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(databases)
        .values({
          id: newId("database"),
          tenantId: data.tenantId,
          name: data.name,
          model: collection.model,
          dimension: collection.dimension,
          chunkSize: data.chunkSize,
          chunkOverlap: data.chunkOverlap,
          searchMode: data.searchMode,
        })
        .returning();
      await recordAudit({
        ctx,
        db: tx,
        input: { tenantId: data.tenantId, action: "database.create", targetId: inserted!.id },
      });
      return inserted!;
    });
    return toDatabase(row);
  } catch (error) {
    await ctx.services.instances
      .call(ctx, {
        tenantId: data.tenantId,
        scope: "write",
        method: "DELETE",
        path: `/collections/${encodeURIComponent(data.name)}`,
      })
      .catch(() => {});
    throw error;
  }
}
