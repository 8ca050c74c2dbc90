import { type Backup, ListBackupsInput } from "@vdb/schemas/backups";
import { and, desc, eq, type SQL } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { olderThanCursor, toPage } from "../lib/cursor";
import { backups, jobs } from "../lib/db/schema";
import { BACKUP_WITH_JOB, toBackup } from "./to-backup";

/** A tenant's backups, newest first, with time, size and record counts. */
export async function listBackups({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: ListBackupsInput;
}): Promise<{ items: Backup[]; nextCursor: string | null }> {
  const { tenantId, limit, cursor } = ListBackupsInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const older = olderThanCursor(cursor, { createdAt: backups.createdAt, id: backups.id });
  const filters: SQL[] = [eq(backups.tenantId, tenantId)];
  if (older) filters.push(older);
  const rows = await ctx.services.db
    .select(BACKUP_WITH_JOB)
    .from(backups)
    .leftJoin(jobs, eq(jobs.id, backups.jobId))
    .where(and(...filters))
    .orderBy(desc(backups.createdAt), desc(backups.id))
    .limit(limit + 1);
  const page = toPage(
    rows.map((row) => ({ ...row, id: row.backup.id, createdAt: row.backup.createdAt })),
    limit,
    (row) => toBackup(row.backup, row.job),
  );
  return page;
}
