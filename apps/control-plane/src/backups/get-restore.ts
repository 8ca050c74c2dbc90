import { AppError } from "@vdb/http/errors";
import { type Restore, RestoreRef } from "@vdb/schemas/backups";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { RESTORE_JOB } from "./restore-job";
import { toRestore } from "./to-backup";

/** A restore into `tenantId`: its status and progress. */
export async function getRestore({ ctx, input }: { ctx: Ctx; input: RestoreRef }): Promise<Restore> {
  const { tenantId, restoreId } = RestoreRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const job = await ctx.services.jobs.get(restoreId);
  if (!job || job.kind !== RESTORE_JOB || job.tenantId !== tenantId) {
    throw new AppError({ code: "NOT_FOUND", message: "No such restore in this tenant" });
  }
  return toRestore(job);
}
