import type { Instance } from "@vdb/schemas/instances";
import type { instances } from "../lib/db/schema";

export type InstanceRow = typeof instances.$inferSelect;

export function toInstance(row: InstanceRow): Instance {
  return {
    tenantId: row.tenantId,
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
