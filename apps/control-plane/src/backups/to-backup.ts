import { AppError } from "@vdb/http/errors";
import type { Backup, Restore } from "@vdb/schemas/backups";
import { and, eq } from "drizzle-orm";
import type { JobSnapshot } from "../jobs/schemas";
import type { Database } from "../lib/db/client";
import { backups, jobs } from "../lib/db/schema";

type BackupRow = typeof backups.$inferSelect;

/** What `toBackup` reads: a backup row and its job's state (select it with a left join on jobs). */
export const BACKUP_WITH_JOB = {
  backup: backups,
  job: {
    status: jobs.status,
    progressDone: jobs.progressDone,
    progressTotal: jobs.progressTotal,
    lastError: jobs.lastError,
  },
};
type JobFields = { status: string; progressDone: number; progressTotal: number; lastError: string | null };

/**
 * A backup as its owner sees it. A running backup whose job has given up (dead-lettered by the
 * lease sweep, cancelled) is shown failed: it will never complete.
 */
export function toBackup(row: BackupRow, job: JobFields | null): Backup {
  const isAbandoned = row.status === "running" && job !== null && ["failed", "dead"].includes(job.status);
  return {
    id: row.id,
    tenantId: row.tenantId,
    source: row.source,
    status: isAbandoned ? "failed" : row.status,
    sizeBytes: row.sizeBytes,
    counts: row.counts,
    progress: row.status === "running" && job ? { done: job.progressDone, total: job.progressTotal } : null,
    failureReason: isAbandoned ? (job?.lastError ?? "the backup job gave up") : row.failureReason,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}

/** The tenant's backup with its job's state; NOT_FOUND for another tenant's (ids cannot be probed). */
export async function findBackupOrThrow(db: Database, tenantId: string, backupId: string) {
  const [found] = await db
    .select(BACKUP_WITH_JOB)
    .from(backups)
    .leftJoin(jobs, eq(jobs.id, backups.jobId))
    .where(and(eq(backups.id, backupId), eq(backups.tenantId, tenantId)))
    .limit(1);
  if (!found) throw new AppError({ code: "NOT_FOUND", message: "No such backup in this tenant" });
  return found;
}

export function toRestore(job: JobSnapshot): Restore {
  return {
    id: job.id,
    backupId: String(job.payload.backupId),
    sourceTenantId: String(job.payload.sourceTenantId),
    targetTenantId: String(job.payload.targetTenantId),
    status: job.status,
    progress: job.progress,
    lastError: job.lastError,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  } as Restore;
}
