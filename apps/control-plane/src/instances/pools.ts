import { PoolId, TenantId } from "@vdb/schemas/ids";
import type { Plan } from "@vdb/schemas/plans";

/** Whether an instance row's id names a pool (`pol_…`) rather than a dedicated tenant's instance. */
export function isPoolId(id: string): boolean {
  return PoolId.safeParse(id).success;
}

/**
 * An instance row's id checked as a tenant's or a pool's: both name a directory (local data, an
 * EFS path) and a process, so nothing else may pass.
 */
export function checkInstanceId(id: string): string {
  if (TenantId.safeParse(id).success || isPoolId(id)) return id;
  throw new Error(`not a tenant or pool id: ${JSON.stringify(id)}`);
}

/** The variable an instance reads its identity from: TENANT_ID, or POOL_ID for a pool. */
export function identityEnvName(id: string): "TENANT_ID" | "POOL_ID" {
  return isPoolId(id) ? "POOL_ID" : "TENANT_ID";
}

/**
 * The plan a pool runs on (its PLAN and per-tenant MAX_DOCS): the shared tier's. Every shared
 * plan's tenants go to pools of this plan.
 */
export const SHARED_PLAN = "free" as const satisfies Plan;
