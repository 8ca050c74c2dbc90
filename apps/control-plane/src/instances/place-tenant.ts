import { newId } from "@vdb/schemas/ids";
import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import type { Config } from "../config";
import type { Database } from "../lib/db/client";
import { instances, jobs, poolPlacements } from "../lib/db/schema";
import { TIER_MOVE_JOB } from "../tenants/tier-move-job";
import { findPlacement } from "./serving-instance";
import type { InstanceRow } from "./to-instance";

/**
 * A shared-tier tenant's "launch": its pool, placing it in one first if it has none. Placement
 * fills the oldest running pool with room (fewer than POOL_TENANTS_MAX tenants); when all are
 * full a new pool row is made, which the reconciler starts like any instance. A placement is
 * for good (the tenant's namespace, its data, lives in that pool's Chroma). Run inside the
 * launch's transaction; the chosen pool's row is locked while its tenants are counted, so two
 * launches cannot both take its last place.
 */
export async function placeTenant(tx: Database, config: Config, tenantId: string): Promise<InstanceRow> {
  const placed = await findPlacement(tx, tenantId);
  if (placed) {
    const [pool] = await tx
      .select()
      .from(instances)
      .where(eq(instances.tenantId, placed.poolId))
      .for("update");
    if (pool) return pool.desiredState === "running" ? pool : revive(tx, pool);
    // The pool row is gone (an operator deleted it): place the tenant again, with no data.
    await tx.delete(poolPlacements).where(eq(poolPlacements.tenantId, tenantId));
  }
  const pool = await choosePool(tx, config);
  await tx.insert(poolPlacements).values({ tenantId, poolId: pool.tenantId });
  return pool;
}

/**
 * The pool a tenant placed now would go to: the oldest running one with room (its placements
 * and the tier moves on their way into it under POOL_TENANTS_MAX), its row locked, or a new pool
 * row (the reconciler starts it) when all are full.
 */
export async function choosePool(tx: Database, config: Config): Promise<InstanceRow> {
  const pools = await tx
    .select({ id: instances.tenantId })
    .from(instances)
    .where(and(eq(instances.kind, "pool"), eq(instances.desiredState, "running")))
    .orderBy(asc(instances.createdAt), asc(instances.tenantId));
  for (const { id } of pools) {
    const [pool] = await tx.select().from(instances).where(eq(instances.tenantId, id)).for("update");
    if (pool?.desiredState !== "running") continue;
    const [held] = await tx.select({ n: count() }).from(poolPlacements).where(eq(poolPlacements.poolId, id));
    // Tenants moving in from the dedicated tier hold their place from the plan change on: their
    // placement is written only at the move's switch.
    const [arriving] = await tx
      .select({ n: count() })
      .from(jobs)
      .where(
        and(
          eq(jobs.kind, TIER_MOVE_JOB),
          inArray(jobs.status, ["queued", "running"]),
          sql`${jobs.payload}->>'toTier' = 'shared'`,
          sql`${jobs.payload}->>'poolId' = ${id}`,
        ),
      );
    if ((held?.n ?? 0) + (arriving?.n ?? 0) >= config.POOL_TENANTS_MAX) continue;
    return pool;
  }
  const [pool] = await tx
    .insert(instances)
    .values({
      tenantId: newId("pool"),
      kind: "pool",
      runtime: config.RUNTIME,
      desiredState: "running",
      state: "pending",
      model: config.INSTANCE_MODEL,
      dimension: config.INSTANCE_DIMENSION,
    })
    .returning();
  return pool!;
}

async function revive(tx: Database, pool: InstanceRow): Promise<InstanceRow> {
  const [row] = await tx
    .update(instances)
    .set({ desiredState: "running", restartCount: 0, nextAttemptAt: null, updatedAt: new Date() })
    .where(eq(instances.tenantId, pool.tenantId))
    .returning();
  return row!;
}
