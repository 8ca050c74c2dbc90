import type { Instance } from "@vdb/schemas/instances";
import type { instances } from "../lib/db/schema";

export type InstanceRow = typeof instances.$inferSelect;

/**
 * An instance row as its tenant sees it; a pool's row seen by a tenant placed in it
 * (`placedTenantId`) is that tenant's instance on the shared tier.
 */
export function toInstance(row: InstanceRow, placedTenantId?: string): Instance {
  const isPool = row.kind === "pool";
  return {
    tenantId: placedTenantId ?? row.tenantId,
    tier: isPool ? "shared" : "dedicated",
    poolId: isPool ? row.tenantId : null,
    runtime: row.runtime,
    desiredState: row.desiredState,
    state: row.state,
    url: row.state === "running" ? row.url : null,
    model: row.model,
    dimension: row.dimension,
    lastError: row.lastError,
    restartCount: row.restartCount,
    stateChangedAt: row.stateChangedAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
