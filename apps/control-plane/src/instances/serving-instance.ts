import { instanceAudience, poolAudience } from "@vdb/schemas/tokens";
import { eq } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { instances, poolPlacements } from "../lib/db/schema";
import type { InstanceRow } from "./to-instance";

/**
 * The instance row that serves a tenant: its own (dedicated tier), or the pool it is placed in
 * (shared tier, `poolId` set); null when it has neither (never launched).
 */
export async function servingInstance(
  db: Database,
  tenantId: string,
): Promise<{ row: InstanceRow; poolId: string | null } | null> {
  const [own] = await db.select().from(instances).where(eq(instances.tenantId, tenantId)).limit(1);
  if (own) return { row: own, poolId: null };
  const [placed] = await db
    .select({ pool: instances })
    .from(poolPlacements)
    .innerJoin(instances, eq(instances.tenantId, poolPlacements.poolId))
    .where(eq(poolPlacements.tenantId, tenantId))
    .limit(1);
  return placed ? { row: placed.pool, poolId: placed.pool.tenantId } : null;
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
