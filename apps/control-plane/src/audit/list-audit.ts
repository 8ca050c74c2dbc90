import { type AuditEntry, ListAuditInput } from "@vdb/schemas/audit";
import { ID_PREFIXES } from "@vdb/schemas/ids";
import { and, desc, eq, inArray, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { requireOperator, requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { olderThanCursor, toPage } from "../lib/cursor";
import type { Database } from "../lib/db/client";
import { apiKeys, auditLog, users } from "../lib/db/schema";

type AuditRow = typeof auditLog.$inferSelect;

/**
 * Names for the user and API-key ids on a page of entries (emails, key names), in two queries
 * whatever the page size. Keys are looked up within the entry's own tenant only, so a tenant's
 * log never names another tenant's key. A deleted user falls back to the email the entry recorded.
 */
async function nameIds(
  db: Database,
  rows: AuditRow[],
): Promise<(row: AuditRow, id: string | null) => string | null> {
  const ids = rows.flatMap((row) => [row.actorId, row.targetId]).filter((id): id is string => id !== null);
  const userIds = [...new Set(ids.filter((id) => id.startsWith(`${ID_PREFIXES.user}_`)))];
  const keyIds = [...new Set(ids.filter((id) => id.startsWith(`${ID_PREFIXES.apiKey}_`)))];
  const [userRows, keyRows] = await Promise.all([
    userIds.length > 0
      ? db.select({ id: users.id, email: users.email }).from(users).where(inArray(users.id, userIds))
      : [],
    keyIds.length > 0
      ? db
          .select({ id: apiKeys.id, tenantId: apiKeys.tenantId, name: apiKeys.name })
          .from(apiKeys)
          .where(inArray(apiKeys.id, keyIds))
      : [],
  ]);
  const emails = new Map(userRows.map((user) => [user.id, user.email]));
  const keys = new Map(keyRows.map((key) => [key.id, key]));
  return (row, id) => {
    if (!id) return null;
    const email = emails.get(id);
    if (email) return email;
    const key = keys.get(id);
    if (key) return key.tenantId === row.tenantId ? key.name : null;
    const recorded = row.metadata.email;
    return id === row.targetId && typeof recorded === "string" ? recorded : null;
  };
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
  const older = olderThanCursor(cursor, { createdAt: auditLog.createdAt, id: auditLog.id });
  const filters: SQL[] = [];
  if (tenantId) filters.push(eq(auditLog.tenantId, tenantId));
  if (action) filters.push(eq(auditLog.action, action));
  if (older) filters.push(older);
  const rows = await ctx.services.db
    .select()
    .from(auditLog)
    .where(and(...filters))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(limit + 1);
  const nameOf = await nameIds(ctx.services.db, rows.slice(0, limit));
  return toPage(rows, limit, (row) => ({
    ...row,
    actorName: nameOf(row, row.actorId),
    targetName: nameOf(row, row.targetId),
    createdAt: row.createdAt.toISOString(),
  }));
}
