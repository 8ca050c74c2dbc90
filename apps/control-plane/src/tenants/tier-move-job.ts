import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@vdb/http/errors";
import { Plan, Tier } from "@vdb/schemas/plans";
import type { TierMove } from "@vdb/schemas/tenants";
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { recordAudit } from "../audit/record-audit";
import { instanceDeferral } from "../backups/backup-job";
import { TenantChroma } from "../backups/tenant-chroma";
import type { InstanceAddress } from "../data-plane/instance-client";
import { type JobContext, JobDeferredError, type JobHandler, PermanentJobError } from "../jobs/job-queue";
import type { JobSnapshot } from "../jobs/schemas";
import { type Ctx, workerCtx } from "../lib/context";
import type { Database } from "../lib/db/client";
import { instances, jobs, poolPlacements, tenants } from "../lib/db/schema";
import type { Services } from "../services";

export const TIER_MOVE_JOB = "tier-move";
/** Records per Chroma `get` and upsert. */
const PAGE = 1_000;
/**
 * How long the move lets writes already admitted drain before it reads: every control plane reads
 * a tenant's location (and so its move) at most a second old, an instance checks the pause for a
 * direct caller's write at most REVOCATION_REFRESH_MS (2 s) old, and a write under way finishes.
 */
const SETTLE_MS = 3_000;

/** What a move's job carries: the plans and tiers, and the pool on the shared side. */
export const TierMovePayload = z.object({
  fromPlan: Plan,
  toPlan: Plan,
  fromTier: Tier,
  toTier: Tier,
  /** The pool the tenant leaves (to the dedicated tier) or joins (to the shared tier). */
  poolId: z.string(),
});
export type TierMovePayload = z.infer<typeof TierMovePayload>;

export function toTierMove(job: JobSnapshot): TierMove {
  const move = TierMovePayload.parse(job.payload);
  return {
    id: job.id,
    tenantId: job.tenantId!,
    fromPlan: move.fromPlan,
    toPlan: move.toPlan,
    fromTier: move.fromTier,
    toTier: move.toTier,
    status: job.status,
    progress: job.progress,
    lastError: job.lastError,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  } as TierMove;
}

/** The tenant's move that is queued or under way, if any (a tenant has at most one). */
export async function activeTierMove(db: Database, tenantId: string): Promise<TierMovePayload | null> {
  const [row] = await db
    .select({ payload: jobs.payload })
    .from(jobs)
    .where(
      and(
        eq(jobs.tenantId, tenantId),
        eq(jobs.kind, TIER_MOVE_JOB),
        inArray(jobs.status, ["queued", "running"]),
      ),
    )
    .limit(1);
  return row ? TierMovePayload.parse(row.payload) : null;
}

/**
 * Refuses (409) what would pull the ground from under a tier move while one is queued or under
 * way: stopping or deleting the tenant's instance (the move waits for it to run, then fails) or
 * deleting the tenant (the copy would go on into a namespace nobody owns). Call it in the
 * transaction that makes the change, after locking the tenant's row, as a plan change does.
 */
export async function refuseDuringTierMove(db: Database, tenantId: string, what: string): Promise<void> {
  await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).for("update");
  const move = await activeTierMove(db, tenantId);
  if (!move) return;
  throw new AppError({
    code: "CONFLICT",
    message: `The tenant is moving from the ${move.fromTier} to the ${move.toTier} tier (a plan change): ${what} when the move has finished (GET /api/v1/tenants/${tenantId}/moves/{moveId}, or the tenant's page in the console)`,
  });
}

/**
 * One attempt of a tier move, safe to repeat:
 *
 * 1. wait for both places to run (deferred, no attempt used), and for admitted writes to drain
 *    (the tenant's writes are refused from the moment the move was queued);
 * 2. **copy** every collection of the tenant's namespace (named databases are collections too)
 *    from where it is to where it goes, through each instance's Chroma passthrough so the target's
 *    keyword index and quota follow; upserts, so a repeated attempt writes the same records; then
 *    remove from the target what the source has not, and compare the counts;
 * 3. **switch** in one transaction: the placement removed (to dedicated) or added (to shared),
 *    the plan set; from then on every call goes to the new place;
 * 4. **purge** the old namespace: its collections deleted; a dedicated instance left behind is
 *    deleted with its data.
 *
 * Until the switch the tenant is served from where it was with all its data; a move that fails
 * for good is rolled back (the plan restored, the half-made target emptied) and reported.
 */
export function tierMoveHandler(services: Services): JobHandler {
  return async (job, progress) => {
    const move = TierMovePayload.parse(job.payload);
    const tenantId = job.tenantId!;
    const ctx = workerCtx(services, job.id);
    try {
      const { dedicated, pool } = await addresses(services.db, tenantId, move.poolId).catch((error) => {
        const waitedMs = Date.now() - Date.parse(job.createdAt);
        if (error instanceof JobDeferredError && waitedMs > services.config.TIER_MOVE_WAIT_MS) {
          throw new PermanentJobError(
            `the move waited ${Math.round(waitedMs / 1000)} s for its new place to run: ${error.message}`,
          );
        }
        throw error;
      });
      const [source, target] = move.toTier === "dedicated" ? [pool, dedicated] : [dedicated, pool];
      if (!(await isSwitched(services.db, tenantId, move))) {
        // Once per move: the copy reports its progress only after this wait, so a move with
        // progress waited in an earlier attempt, which (as every attempt) began after the pause.
        if (job.progress.total === 0) await sleep(SETTLE_MS, undefined, { signal: progress.signal });
        const copied = await copyNamespace(ctx, tenantId, source, target, progress);
        await switchTenant(ctx, tenantId, move, job.id, copied, Date.now() - Date.parse(job.createdAt));
      }
      services.instances.forgetLocation(tenantId);
      await emptyNamespace(ctx, tenantId, source);
      if (move.toTier === "shared") {
        await services.db
          .update(instances)
          .set({ desiredState: "deleted", updatedAt: new Date() })
          .where(eq(instances.tenantId, tenantId));
        services.reconciler.nudge();
      }
    } catch (error) {
      const deferral = error instanceof JobDeferredError ? error : instanceDeferral(error);
      if (deferral) throw deferral;
      const isFinal = error instanceof PermanentJobError || job.attempts >= job.maxAttempts;
      // Past the switch the tenant lives in its new place: nothing to undo, the purge is retried.
      if (isFinal && !(await isSwitched(services.db, tenantId, move)))
        await rollBack(ctx, tenantId, move, job.id, error instanceof Error ? error.message : String(error));
      throw error;
    }
  };
}

/** Both places' addresses; the move waits (deferred) until both run. */
async function addresses(
  db: Database,
  tenantId: string,
  poolId: string,
): Promise<{ dedicated: InstanceAddress; pool: InstanceAddress }> {
  const rows = await db
    .select()
    .from(instances)
    .where(inArray(instances.tenantId, [tenantId, poolId]));
  const own = rows.find((row) => row.tenantId === tenantId);
  const pool = rows.find((row) => row.tenantId === poolId);
  if (!own || !pool) throw new PermanentJobError("the tenant's instance or its pool is gone");
  for (const row of [own, pool]) {
    if (row.state !== "running" || !row.url) {
      throw new JobDeferredError(`waiting for ${row.tenantId} to run (it is ${row.state})`, {
        retryInMs: 500,
      });
    }
  }
  return { dedicated: { url: own.url!, poolId: null }, pool: { url: pool.url!, poolId } };
}

/** Whether the switch was made (an earlier attempt got past it). */
async function isSwitched(db: Database, tenantId: string, move: TierMovePayload): Promise<boolean> {
  const [placed] = await db
    .select({ poolId: poolPlacements.poolId })
    .from(poolPlacements)
    .where(eq(poolPlacements.tenantId, tenantId))
    .limit(1);
  return move.toTier === "dedicated" ? !placed : placed?.poolId === move.poolId;
}

/** Makes the target's namespace hold exactly the source's records; returns how many. */
async function copyNamespace(
  ctx: Ctx,
  tenantId: string,
  source: InstanceAddress,
  target: InstanceAddress,
  { signal, reportProgress }: JobContext,
): Promise<number> {
  const from = new TenantChroma(ctx, tenantId, source);
  const to = new TenantChroma(ctx, tenantId, target);
  const collections = await from.listCollections();
  const sizes = await Promise.all(collections.map((collection) => from.count(collection.id)));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  await reportProgress(0, total);
  let done = 0;
  for (const collection of collections) {
    const made = await to.createCollection(
      collection.name,
      collection.metadata,
      withoutSyncThreshold(collection.configuration),
    );
    const copied = new Set<string>();
    for (let offset = 0; ; offset += PAGE) {
      signal.throwIfAborted();
      const page = await from.getPage(collection.id, offset, PAGE);
      await to.upsert(made.id, page);
      for (const id of page.ids) copied.add(id);
      done += page.ids.length;
      await reportProgress(done, Math.max(total, done));
      if (page.ids.length < PAGE) break;
    }
    // Records an earlier attempt copied that the source no longer has.
    const extra: string[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await to.getPage(made.id, offset, PAGE);
      for (const id of page.ids) if (!copied.has(id)) extra.push(id);
      if (page.ids.length < PAGE) break;
    }
    await to.deleteRecords(made.id, extra);
    const [had, has] = await Promise.all([from.count(collection.id), to.count(made.id)]);
    if (had !== has || had !== copied.size) {
      throw new Error(
        `collection ${collection.name}: ${had} records where the tenant is, ${has} where it moves (${copied.size} copied)`,
      );
    }
  }
  const names = new Set(collections.map((collection) => collection.name));
  for (const collection of await to.listCollections()) {
    if (!names.has(collection.name)) await to.deleteCollection(collection.name);
  }
  return done;
}

/**
 * A collection's configuration without `hnsw.sync_threshold`: a pool saves its indexes on every
 * write (and sets that on every collection itself), a dedicated instance keeps Chroma's default.
 */
function withoutSyncThreshold(configuration: Record<string, unknown> | null): Record<string, unknown> | null {
  const hnsw = configuration?.hnsw;
  if (!configuration || !hnsw || typeof hnsw !== "object") return configuration;
  const { sync_threshold: _dropped, ...rest } = hnsw as Record<string, unknown>;
  return { ...configuration, hnsw: rest };
}

/**
 * The tenant's namespace on one instance, emptied. A pool removes all of the tenant's there (its
 * collections, Chroma database, index directories and keyword files: `DELETE /pool/tenant`); a
 * dedicated instance's collections are deleted one by one (the instance is deleted after).
 */
async function emptyNamespace(ctx: Ctx, tenantId: string, at: InstanceAddress): Promise<void> {
  if (at.poolId) {
    const answer = await ctx.services.instances.open(ctx, {
      tenantId,
      scope: "admin",
      method: "DELETE",
      path: "/pool/tenant",
      at,
    });
    const pieces: Buffer[] = [];
    for await (const piece of answer.body) pieces.push(piece as Buffer);
    if (answer.status !== 200) {
      throw new Error(
        `the pool did not remove the tenant's namespace (${answer.status}): ${Buffer.concat(pieces).toString("utf8").slice(0, 300)}`,
      );
    }
    return;
  }
  const chroma = new TenantChroma(ctx, tenantId, at);
  for (const collection of await chroma.listCollections()) await chroma.deleteCollection(collection.name);
}

/** The switch: from this commit every call for the tenant goes to its new place. */
async function switchTenant(
  ctx: Ctx,
  tenantId: string,
  move: TierMovePayload,
  moveId: string,
  records: number,
  pausedMs: number,
): Promise<void> {
  await ctx.services.db.transaction(async (tx) => {
    if (move.toTier === "dedicated") {
      await tx.delete(poolPlacements).where(eq(poolPlacements.tenantId, tenantId));
    } else {
      await tx.insert(poolPlacements).values({ tenantId, poolId: move.poolId }).onConflictDoNothing();
      await tx
        .update(tenants)
        .set({ plan: move.toPlan, updatedAt: sql`now()` })
        .where(eq(tenants.id, tenantId));
    }
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId,
        action: "tenant.move",
        targetId: tenantId,
        // How long the tenant's writes were paused, from the plan change to this switch.
        metadata: { moveId, from: move.fromTier, to: move.toTier, poolId: move.poolId, records, pausedMs },
      },
    });
  });
}

/**
 * A move that failed for good: the tenant stays where it was, with its data. A move to the
 * dedicated tier gets its plan back and its new instance deleted; a move to the shared tier
 * leaves nothing in the pool.
 */
async function rollBack(ctx: Ctx, tenantId: string, move: TierMovePayload, moveId: string, reason: string) {
  const { db, reconciler, logger } = ctx.services;
  try {
    if (move.toTier === "dedicated") {
      await db.transaction(async (tx) => {
        await tx
          .update(tenants)
          .set({ plan: move.fromPlan, updatedAt: sql`now()` })
          .where(and(eq(tenants.id, tenantId), eq(tenants.plan, move.toPlan)));
        await tx
          .update(instances)
          .set({ desiredState: "deleted", updatedAt: new Date() })
          .where(eq(instances.tenantId, tenantId));
      });
      reconciler.nudge();
    } else {
      const [pool] = await db.select().from(instances).where(eq(instances.tenantId, move.poolId)).limit(1);
      if (pool?.state === "running" && pool.url)
        await emptyNamespace(ctx, tenantId, { url: pool.url, poolId: move.poolId });
    }
  } catch (error) {
    logger.warn({ err: error, tenantId, moveId }, "could not undo all of a failed tier move");
  }
  ctx.services.instances.forgetLocation(tenantId);
  await recordAudit({
    ctx,
    db,
    input: {
      tenantId,
      action: "tenant.move_failed",
      targetId: tenantId,
      metadata: {
        moveId,
        from: move.fromTier,
        to: move.toTier,
        plan: move.fromPlan,
        reason: reason.slice(0, 500),
      },
    },
  });
}
