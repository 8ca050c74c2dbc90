import { AppError } from "@vdb/http/errors";
import { BackupRef } from "@vdb/schemas/backups";
import { eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { backups } from "../lib/db/schema";
import { snapshotPrefix } from "./snapshot";
import { findBackupOrThrow, toBackup } from "./to-backup";

/** Deletes a finished backup: its row, then its snapshot. A running one is refused (CONFLICT). */
export async function deleteBackup({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: BackupRef;
}): Promise<{ deleted: true }> {
  const { tenantId, backupId } = BackupRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  const { db, blobs } = ctx.services;
  const { backup, job } = await findBackupOrThrow(db, tenantId, backupId);
  if (toBackup(backup, job).status === "running") {
    throw new AppError({
      code: "CONFLICT",
      message: "The backup is still running; delete it once it has finished",
    });
  }
  // The row first: a snapshot whose row is gone is never listed or restored.
  await db.delete(backups).where(eq(backups.id, backupId));
  await blobs.deletePrefix(snapshotPrefix(tenantId, backupId));
  return { deleted: true };
}
