import { type Tenant, TenantRef } from "@vdb/schemas/tenants";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { findTenantOrThrow, toTenant } from "./to-tenant";

export async function getTenant({ ctx, input }: { ctx: Ctx; input: TenantRef }): Promise<Tenant> {
  const { tenantId } = TenantRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  return toTenant(await findTenantOrThrow(ctx.services.db, tenantId));
}
