import { type Backup, CreateBackupInput } from "@vdb/schemas/backups";
import { newId } from "@vdb/schemas/ids";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { backups } from "../lib/db/schema";
import { BACKUP_JOB } from "./backup-job";
import { findBackupOrThrow, toBackup } from "./to-backup";

/** Starts a backup of the tenant: a row and its durable job, in one transaction. */
export async function createBackup({ ctx, input }: { ctx: Ctx; input: CreateBackupInput }): Promise<Backup> {
  const { tenantId } = CreateBackupInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  const { db, jobs } = ctx.services;
  const id = newId("backup");
  await db.transaction(async (tx) => {
    const job = await jobs.enqueue(
      { kind: BACKUP_JOB, tenantId, payload: { backupId: id }, maxAttempts: 3 },
      tx as unknown as typeof db,
    );
    await tx.insert(backups).values({ id, tenantId, source: "backup", status: "running", jobId: job.id });
  });
  jobs.nudge();
  const { backup, job } = await findBackupOrThrow(db, tenantId, id);
  return toBackup(backup, job);
}
