import { type Backup, BackupRef } from "@vdb/schemas/backups";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { findBackupOrThrow, toBackup } from "./to-backup";

export async function getBackup({ ctx, input }: { ctx: Ctx; input: BackupRef }): Promise<Backup> {
  const { tenantId, backupId } = BackupRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const { backup, job } = await findBackupOrThrow(ctx.services.db, tenantId, backupId);
  return toBackup(backup, job);
}
