import { AppError } from "@vdb/http/errors";
import { PLANS, type Plan } from "@vdb/schemas/plans";
import { ChangeTenantPlanInput, type PlanChange, RenameTenantInput, type Tenant } from "@vdb/schemas/tenants";
import { eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireOperator, requireTenantScope } from "../auth/authorize";
import { TenantChroma } from "../backups/tenant-chroma";
import { choosePool } from "../instances/place-tenant";
import { servingInstance } from "../instances/serving-instance";
import type { InstanceRow } from "../instances/to-instance";
import type { Ctx } from "../lib/context";
import type { Database } from "../lib/db/client";
import { instances, tenants } from "../lib/db/schema";
import { activeTierMove, TIER_MOVE_JOB, type TierMovePayload, toTierMove } from "./tier-move-job";
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

/**
 * Moves a tenant to another plan (operators only: plans are what customers pay for). A plan of
 * the other tier moves the tenant's data there too, as a durable job (see tier-move-job): the
 * answer carries the move, which runs on. To the dedicated tier the plan applies at once (its new
 * instance starts with it); to the shared tier it applies at the switch, once the records fit in
 * a pool, and a tenant that holds more than the shared plan allows is refused before anything
 * changes.
 */
export async function changeTenantPlan({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: ChangeTenantPlanInput;
}): Promise<PlanChange> {
  requireOperator(ctx.principal);
  const { tenantId, plan } = ChangeTenantPlanInput.parse(input);
  const { db, jobs, reconciler } = ctx.services;
  const before = await findTenantOrThrow(db, tenantId);
  const serving = await servingInstance(db, tenantId);
  const toTier = PLANS[plan].tier;
  // A tenant with no data anywhere yet is placed by its first launch: only the plan changes.
  const isMove = serving !== null && (toTier === "shared") !== (serving.poolId !== null);
  if (!isMove) {
    const tenant = await updateTenantField(ctx, tenantId, "plan", plan, "tenant.change_plan");
    // A running instance enforces its plan's limits from its environment: the reconciler restarts
    // it with the new one (its data stays).
    reconciler.nudge();
    return { ...tenant, move: null };
  }
  if (await activeTierMove(db, tenantId)) {
    throw new AppError({ code: "CONFLICT", message: "The tenant is already moving between tiers" });
  }
  if (toTier === "shared") await assertFitsPlan(ctx, tenantId, plan);
  const { tenant, job } = await db.transaction(async (tx) => {
    const [current] = await tx.select().from(tenants).where(eq(tenants.id, tenantId)).for("update");
    if (!current || current.plan !== before.plan || (await activeTierMove(tx, tenantId))) {
      throw new AppError({ code: "CONFLICT", message: "The tenant's plan changed meanwhile; try again" });
    }
    const poolId =
      toTier === "dedicated"
        ? await startDedicatedInstance(ctx, tx, tenantId, serving.row)
        : (await choosePool(tx, ctx.services.config)).tenantId;
    let row: typeof current | undefined = current;
    if (toTier === "dedicated") {
      [row] = await tx
        .update(tenants)
        .set({ plan, updatedAt: sql`now()` })
        .where(eq(tenants.id, tenantId))
        .returning();
    }
    const payload: TierMovePayload = {
      fromPlan: current.plan,
      toPlan: plan,
      fromTier: PLANS[current.plan].tier,
      toTier,
      poolId,
    };
    const job = await jobs.enqueue(
      { kind: TIER_MOVE_JOB, tenantId, payload, maxAttempts: 5 },
      tx as unknown as typeof db,
    );
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId,
        action: "tenant.change_plan",
        targetId: tenantId,
        metadata: { from: current.plan, to: plan, moveId: job.id, toTier, poolId },
      },
    });
    return { tenant: toTenant(row!), job };
  });
  ctx.services.instances.forgetLocation(tenantId);
  reconciler.nudge();
  jobs.nudge();
  return { ...tenant, move: toTierMove(job) };
}

/**
 * The tenant's own instance, started beside the pool that serves it until the move switches; it
 * takes the pool's model and dimension (its records' embeddings are copied as they are).
 */
async function startDedicatedInstance(
  ctx: Ctx,
  tx: Database,
  tenantId: string,
  pool: InstanceRow,
): Promise<string> {
  const [existing] = await tx.select().from(instances).where(eq(instances.tenantId, tenantId)).for("update");
  if (existing?.desiredState === "deleted") {
    throw new AppError({
      code: "CONFLICT",
      message: "The tenant's previous dedicated instance is still being deleted; try again shortly",
    });
  }
  if (existing) {
    await tx
      .update(instances)
      .set({ desiredState: "running", restartCount: 0, nextAttemptAt: null, updatedAt: new Date() })
      .where(eq(instances.tenantId, tenantId));
  } else {
    await tx.insert(instances).values({
      tenantId,
      runtime: ctx.services.config.RUNTIME,
      desiredState: "running",
      state: "pending",
      model: pool.model,
      dimension: pool.dimension,
    });
  }
  return pool.tenantId;
}

/** Refuses a move to `plan` when the tenant holds more records or collections than it allows. */
async function assertFitsPlan(ctx: Ctx, tenantId: string, plan: Plan): Promise<void> {
  const limits = PLANS[plan];
  const chroma = new TenantChroma(ctx, tenantId);
  const collections = await chroma.listCollections();
  const records = (await Promise.all(collections.map((collection) => chroma.count(collection.id)))).reduce(
    (sum, n) => sum + n,
    0,
  );
  const over = [
    records > limits.maxRecords
      ? `${records} records (the ${limits.title} plan allows ${limits.maxRecords})`
      : null,
    collections.length > limits.maxCollections
      ? `${collections.length} collections (it allows ${limits.maxCollections})`
      : null,
  ].filter((reason) => reason !== null);
  if (over.length > 0) {
    throw new AppError({
      code: "QUOTA_EXCEEDED",
      message: `The tenant holds ${over.join(" and ")}; delete some before moving it to the ${limits.title} plan`,
    });
  }
}

/** Renames a tenant: its admins may. */
export async function renameTenant({ ctx, input }: { ctx: Ctx; input: RenameTenantInput }): Promise<Tenant> {
  const { tenantId, name } = RenameTenantInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  return updateTenantField(ctx, tenantId, "name", name, "tenant.rename");
}
