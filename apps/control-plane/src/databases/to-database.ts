import { AppError } from "@vdb/http/errors";
import type { Database } from "@vdb/schemas/databases";
import type { SearchMode } from "@vdb/schemas/instances";
import { and, eq } from "drizzle-orm";
import type { Database as Store } from "../lib/db/client";
import { databases } from "../lib/db/schema";

type DatabaseRow = typeof databases.$inferSelect;

export function toDatabase(row: DatabaseRow): Database {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    model: row.model,
    dimension: row.dimension,
    chunkSize: row.chunkSize,
    chunkOverlap: row.chunkOverlap,
    searchMode: row.searchMode,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The tenant's database by id; NOT_FOUND for another tenant's, as for a missing one. */
export async function findDatabaseOrThrow(
  db: Store,
  tenantId: string,
  databaseId: string,
): Promise<DatabaseRow> {
  const [row] = await db
    .select()
    .from(databases)
    .where(and(eq(databases.tenantId, tenantId), eq(databases.id, databaseId)))
    .limit(1);
  if (!row) throw new AppError({ code: "NOT_FOUND", message: `No database ${databaseId} in this tenant` });
  return row;
}

/** The search mode of the named database owning `collection`, if one does. */
export async function databaseSearchMode(
  db: Store,
  tenantId: string,
  collection: string,
): Promise<SearchMode | null> {
  const [row] = await db
    .select({ searchMode: databases.searchMode })
    .from(databases)
    .where(and(eq(databases.tenantId, tenantId), eq(databases.name, collection)))
    .limit(1);
  return row?.searchMode ?? null;
}

/** The chunking a named database fixes for documents in its collection, if one owns it. */
export async function databaseChunking(
  db: Store,
  tenantId: string,
  collection: string,
): Promise<{ chunkSize: number; chunkOverlap: number } | null> {
  const [row] = await db
    .select({ chunkSize: databases.chunkSize, chunkOverlap: databases.chunkOverlap })
    .from(databases)
    .where(and(eq(databases.tenantId, tenantId), eq(databases.name, collection)))
    .limit(1);
  return row ?? null;
}
