import { type Backup, CreateBackupInput } from "@vdb/schemas/backups";
import { newId } from "@vdb/schemas/ids";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { backups } from "../lib/db/schema";
import type { Services } from "../services";
import { BACKUP_JOB } from "./backup-job";
import { findBackupOrThrow, toBackup } from "./to-backup";

/** Starts a backup of the tenant on request. */
export async function createBackup({ ctx, input }: { ctx: Ctx; input: CreateBackupInput }): Promise<Backup> {
  const { tenantId } = CreateBackupInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  return startBackup(ctx.services, tenantId, { source: "backup" });
}

/**
 * A backup's row and its durable job, in one transaction (callers check who may start it);
 * `createdAt` is the schedule's clock for scheduled ones.
 */
export async function startBackup(
  services: Pick<Services, "db" | "jobs">,
  tenantId: string,
  opts: { source: "backup" | "scheduled"; createdAt?: Date },
): Promise<Backup> {
  const { db, jobs } = services;
  const id = newId("backup");
  await db.transaction(async (tx) => {
    const job = await jobs.enqueue(
      { kind: BACKUP_JOB, tenantId, payload: { backupId: id }, maxAttempts: 3 },
      tx as unknown as typeof db,
    );
    await tx.insert(backups).values({
      id,
      tenantId,
      source: opts.source,
      status: "running",
      jobId: job.id,
      ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
    });
  });
  jobs.nudge();
  const { backup, job } = await findBackupOrThrow(db, tenantId, id);
  return toBackup(backup, job);
}
