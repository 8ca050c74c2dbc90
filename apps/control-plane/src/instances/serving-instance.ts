import { instanceAudience, poolAudience } from "@vdb/schemas/tokens";
import { eq } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { instances, poolPlacements } from "../lib/db/schema";
import type { InstanceRow } from "./to-instance";

/**
 * The instance row that serves a tenant: the pool it is placed in (shared tier, `poolId` set), or
 * its own (dedicated tier); null when it has neither (never launched). The placement decides when
 * a tenant has both, which only a tier move makes: a move to the dedicated tier starts the
 * tenant's own instance while the pool still serves it, and switches by removing the placement;
 * a move to the shared tier switches by adding it.
 */
export async function servingInstance(
  db: Database,
  tenantId: string,
): Promise<{ row: InstanceRow; poolId: string | null } | null> {
  const [placed] = await db
    .select({ pool: instances })
    .from(poolPlacements)
    .innerJoin(instances, eq(instances.tenantId, poolPlacements.poolId))
    .where(eq(poolPlacements.tenantId, tenantId))
    .limit(1);
  if (placed) return { row: placed.pool, poolId: placed.pool.tenantId };
  const [own] = await db.select().from(instances).where(eq(instances.tenantId, tenantId)).limit(1);
  return own ? { row: own, poolId: null } : null;
}

/** A shared-tier tenant's placement (its pool's id), or null. */
export async function findPlacement(db: Database, tenantId: string): Promise<{ poolId: string } | null> {
  const [placed] = await db
    .select({ poolId: poolPlacements.poolId })
    .from(poolPlacements)
    .where(eq(poolPlacements.tenantId, tenantId))
    .limit(1);
  return placed ?? null;
}

/** The claims that address an instance token: a dedicated instance's audience, or a pool's and its id. */
export function tokenAddress(tenantId: string, poolId: string | null): { aud: string; pool?: string } {
  return poolId ? { aud: poolAudience(poolId), pool: poolId } : { aud: instanceAudience(tenantId) };
}
