import { ChangeTenantPlanInput, RenameTenantInput, type Tenant } from "@vdb/schemas/tenants";
import { eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireOperator, requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { tenants } from "../lib/db/schema";
import { findTenantOrThrow, toTenant } from "./to-tenant";

/** Changes one field of a tenant and audits it (from → to), in one transaction. */
function updateTenantField<Field extends "plan" | "name">(
  ctx: Ctx,
  tenantId: string,
  field: Field,
  value: (typeof tenants.$inferSelect)[Field],
  action: string,
): Promise<Tenant> {
  return ctx.services.db.transaction(async (tx) => {
    const before = await findTenantOrThrow(tx, tenantId);
    const [row] = await tx
      .update(tenants)
      .set({ [field]: value, updatedAt: sql`now()` })
      .where(eq(tenants.id, tenantId))
      .returning();
    await recordAudit({
      ctx,
      db: tx,
      input: { tenantId, action, targetId: tenantId, metadata: { from: before[field], to: value } },
    });
    return toTenant(row!);
  });
}

/** Moves a tenant to another plan (operators only: plans are what customers pay for). */
export async function changeTenantPlan({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: ChangeTenantPlanInput;
}): Promise<Tenant> {
  requireOperator(ctx.principal);
  const { tenantId, plan } = ChangeTenantPlanInput.parse(input);
  const tenant = await updateTenantField(ctx, tenantId, "plan", plan, "tenant.change_plan");
  // A running instance enforces its plan's limits from its environment: the reconciler restarts
  // it with the new one (its data stays).
  ctx.services.reconciler.nudge();
  return tenant;
}

/** Renames a tenant: its admins may. */
export async function renameTenant({ ctx, input }: { ctx: Ctx; input: RenameTenantInput }): Promise<Tenant> {
  const { tenantId, name } = RenameTenantInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  return updateTenantField(ctx, tenantId, "name", name, "tenant.rename");
}
