import { ChangeTenantPlanInput, RenameTenantInput, type Tenant } from "@vdb/schemas/tenants";
import { eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireOperator, requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { tenants } from "../lib/db/schema";
import { findTenantOrThrow, toTenant } from "./to-tenant";

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
  return ctx.services.db.transaction(async (tx) => {
    const before = await findTenantOrThrow(tx, tenantId);
    const [row] = await tx
      .update(tenants)
      .set({ plan, updatedAt: sql`now()` })
      .where(eq(tenants.id, tenantId))
      .returning();
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId,
        action: "tenant.change_plan",
        targetId: tenantId,
        metadata: { from: before.plan, to: plan },
      },
    });
    return toTenant(row!);
  });
}

/** Renames a tenant: its admins may. */
export async function renameTenant({ ctx, input }: { ctx: Ctx; input: RenameTenantInput }): Promise<Tenant> {
  const { tenantId, name } = RenameTenantInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  return ctx.services.db.transaction(async (tx) => {
    const before = await findTenantOrThrow(tx, tenantId);
    const [row] = await tx
      .update(tenants)
      .set({ name, updatedAt: sql`now()` })
      .where(eq(tenants.id, tenantId))
      .returning();
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId,
        action: "tenant.rename",
        targetId: tenantId,
        metadata: { from: before.name, to: name },
      },
    });
    return toTenant(row!);
  });
}
