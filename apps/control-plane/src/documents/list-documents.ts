import { type Document, ListDocumentsInput } from "@vdb/schemas/documents";
import { and, desc, eq, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { olderThanCursor, toPage } from "../lib/cursor";
import { documents } from "../lib/db/schema";
import { ingestionProgressOf, toDocument } from "./to-document";

/** A tenant's documents, newest first, optionally by status or collection; those being ingested with their progress. */
export async function listDocuments({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof ListDocumentsInput>;
}): Promise<{ items: Document[]; nextCursor: string | null }> {
  const { tenantId, status, collection, limit, cursor } = ListDocumentsInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const older = olderThanCursor(cursor, { createdAt: documents.createdAt, id: documents.id });
  const filters: SQL[] = [eq(documents.tenantId, tenantId)];
  if (status) filters.push(eq(documents.status, status));
  if (collection) filters.push(eq(documents.collection, collection));
  if (older) filters.push(older);
  const rows = await ctx.services.db
    .select()
    .from(documents)
    .where(and(...filters))
    .orderBy(desc(documents.createdAt), desc(documents.id))
    .limit(limit + 1);
  // Queued and processing documents carry their ingestion's progress, as a single document does.
  const pending = rows
    .slice(0, limit)
    .filter((row) => row.status === "queued" || row.status === "processing");
  const progress = await ingestionProgressOf(
    ctx.services.db,
    pending.map((row) => row.id),
  );
  return toPage(rows, limit, (row) => toDocument(row, progress.get(row.id) ?? null));
}
