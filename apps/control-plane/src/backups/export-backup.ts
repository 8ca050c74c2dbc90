import { AppError } from "@vdb/http/errors";
import { BackupRef } from "@vdb/schemas/backups";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { readManifest } from "./snapshot";
import { findBackupOrThrow, toBackup } from "./to-backup";

/**
 * A completed backup as the portable export (JSONL): the header line, then the parts' lines as
 * stored (records, then documents and chunks). Read one part at a time, so memory stays flat.
 */
export async function exportBackup({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: BackupRef;
}): Promise<{ filename: string; body: ReadableStream<Uint8Array> }> {
  const { tenantId, backupId } = BackupRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  const { db, blobs } = ctx.services;
  const { backup, job } = await findBackupOrThrow(db, tenantId, backupId);
  if (toBackup(backup, job).status !== "completed") {
    throw new AppError({ code: "CONFLICT", message: "Only a completed backup can be exported" });
  }
  const manifest = await readManifest(blobs, tenantId, backupId);
  let next = -1;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next === -1) controller.enqueue(Buffer.from(`${JSON.stringify(manifest.header)}\n`));
      else if (next < manifest.parts.length) controller.enqueue(await blobs.get(manifest.parts[next]!.key));
      else controller.close();
      next++;
    },
  });
  return { filename: `${tenantId}-${backupId}.jsonl`, body };
}
