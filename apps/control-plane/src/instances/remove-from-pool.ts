import { AppError } from "@vdb/http/errors";
import { InstanceNotRunningError } from "../data-plane/instance-client";
import type { Ctx } from "../lib/context";
import { findPlacement } from "./serving-instance";

/**
 * Removes a shared-tier tenant's data from its pool (its Chroma collections and database, the
 * index files Chroma leaves, its keyword index files: the pool's `DELETE /pool/tenant`), for a
 * tenant being deleted. Runs before the tenant's rows go, so that a pool that cannot be reached
 * fails the deletion (503, nothing deleted, try again) instead of leaving records no row names.
 * A tenant in no pool, or whose pool row is gone, has nothing there.
 */
export async function removeFromPool(ctx: Ctx, tenantId: string): Promise<void> {
  if (!(await findPlacement(ctx.services.db, tenantId))) return;
  let reply: { status: number; body: unknown };
  try {
    reply = await ctx.services.instances.call(ctx, {
      tenantId,
      scope: "admin",
      method: "DELETE",
      path: "/pool/tenant",
      countsAsUse: false,
    });
  } catch (error) {
    if (error instanceof InstanceNotRunningError && error.state === "none") return;
    throw error;
  }
  if (reply.status !== 200) {
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: `The tenant's pool did not remove its data (${reply.status}); nothing was deleted, try again shortly`,
      retryAfterSeconds: 5,
    });
  }
  ctx.services.logger.info({ tenantId, removed: reply.body }, "tenant's data removed from its pool");
}
