import { type AuditEntry, ListAuditInput } from "@vdb/schemas/audit";
import { and, desc, eq, lt, or, type SQL, sql } from "drizzle-orm";
import type { z } from "zod";
import { requireOperator, requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { decodeCursor, toPage } from "../lib/cursor";
import { auditLog } from "../lib/db/schema";

function toAuditEntry(row: typeof auditLog.$inferSelect): AuditEntry {
  return { ...row, createdAt: row.createdAt.toISOString() };
}

/** Newest first. A tenant's admins read its entries; only operators read across tenants. */
export async function listAudit({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof ListAuditInput>;
}): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const { tenantId, action, limit, cursor } = ListAuditInput.parse(input);
  if (tenantId) requireTenantScope(ctx.principal, tenantId, "admin");
  else requireOperator(ctx.principal);
  const after = decodeCursor(cursor);
  const filters: SQL[] = [];
  if (tenantId) filters.push(eq(auditLog.tenantId, tenantId));
  if (action) filters.push(eq(auditLog.action, action));
  if (after) {
    filters.push(
      or(
        lt(auditLog.createdAt, after.createdAt),
        and(eq(auditLog.createdAt, after.createdAt), sql`${auditLog.id} < ${after.id}`),
      ) as SQL,
    );
  }
  const rows = await ctx.services.db
    .select()
    .from(auditLog)
    .where(and(...filters))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(limit + 1);
  return toPage(rows, limit, toAuditEntry);
}
