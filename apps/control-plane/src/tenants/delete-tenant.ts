import { TenantRef } from "@vdb/schemas/tenants";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantOwner } from "../auth/authorize";
import { removeFromPool } from "../instances/remove-from-pool";
import type { Ctx } from "../lib/context";
import { authInvalidations, instances, tenants } from "../lib/db/schema";
import { refuseDuringTierMove } from "./tier-move-job";
import { findTenantOrThrow } from "./to-tenant";

/**
 * Deletes a tenant and, through foreign-key cascades, its keys, memberships and usage.
 * Its keys stop working in every process: the invalidation lands in the same transaction.
 * A shared-tier tenant's records are removed from its pool first (removeFromPool); a request
 * of its own between that and the transaction could still write (its keys work until then).
 * Refused while the tenant moves between tiers (refuseDuringTierMove).
 */
export async function deleteTenant({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: TenantRef;
}): Promise<{ deleted: true }> {
  const { tenantId } = TenantRef.parse(input);
  requireTenantOwner(ctx.principal, tenantId);
  await findTenantOrThrow(ctx.services.db, tenantId);
  await refuseDuringTierMove(ctx.services.db, tenantId, "delete it");
  await removeFromPool(ctx, tenantId);
  await ctx.services.db.transaction(async (tx) => {
    const row = await findTenantOrThrow(tx, tenantId);
    await refuseDuringTierMove(tx, tenantId, "delete it");
    await tx.delete(tenants).where(eq(tenants.id, tenantId));
    // Not a cascade (instance rows also hold pools): the reconciler then stops the orphaned process.
    await tx.delete(instances).where(eq(instances.tenantId, tenantId));
    await tx.insert(authInvalidations).values({ tenantId });
    await recordAudit({
      ctx,
      db: tx,
      input: { tenantId, action: "tenant.delete", targetId: tenantId, metadata: { slug: row.slug } },
    });
  });
  ctx.services.apiKeys.forgetTenant(tenantId);
  return { deleted: true };
}
