import { AppError } from "@vdb/http/errors";
import { type Restore, RestoreBackupInput } from "@vdb/schemas/backups";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { assertRestoreFits, isRestoreActive, RESTORE_JOB } from "./restore-job";
import { findBackupOrThrow, toBackup, toRestore } from "./to-backup";

/**
 * Queues a restore of a completed backup into its own tenant (replacing that tenant's data) or
 * into `targetTenantId`, which the caller must administer too. One restore per tenant at a time.
 */
export async function restoreBackup({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: RestoreBackupInput;
}): Promise<Restore> {
  const { tenantId, backupId, targetTenantId } = RestoreBackupInput.parse(input);
  const target = targetTenantId ?? tenantId;
  requireTenantScope(ctx.principal, tenantId, "admin");
  requireTenantScope(ctx.principal, target, "admin");
  const { db, jobs } = ctx.services;
  const { backup, job } = await findBackupOrThrow(db, tenantId, backupId);
  if (toBackup(backup, job).status !== "completed") {
    throw new AppError({ code: "CONFLICT", message: "Only a completed backup can be restored" });
  }
  await assertRestoreFits(ctx.services, target, backup.counts.records);
  if (await isRestoreActive(ctx.services, target)) {
    throw new AppError({
      code: "CONFLICT",
      message: "A restore into this tenant is already queued or running",
    });
  }
  const queued = await jobs.enqueue({
    kind: RESTORE_JOB,
    tenantId: target,
    payload: {
      backupId,
      sourceTenantId: tenantId,
      targetTenantId: target,
      keepsIds: backup.source !== "import" && target === tenantId,
    },
    maxAttempts: 5,
  });
  jobs.nudge();
  return toRestore(queued);
}
