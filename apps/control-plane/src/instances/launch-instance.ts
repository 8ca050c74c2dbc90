import { AppError } from "@vdb/http/errors";
import { type Instance, LaunchInstanceInput } from "@vdb/schemas/instances";
import { PLANS } from "@vdb/schemas/plans";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { instances } from "../lib/db/schema";
import { findTenantOrThrow } from "../tenants/to-tenant";
import { placeTenant } from "./place-tenant";
import { toInstance } from "./to-instance";

/**
 * Seed `/launch-instance`, `/launch`: the tenant's instance should run. Creates it on first
 * launch (model and dimension are fixed from then on); the reconciler does the starting.
 */
export async function launchInstance({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: LaunchInstanceInput;
}): Promise<Instance> {
  const data = LaunchInstanceInput.parse(input);
  requireTenantScope(ctx.principal, data.tenantId, "admin");
  const { config, reconciler } = ctx.services;
  const instance = await ctx.services.db.transaction(async (tx) => {
    const tenant = await findTenantOrThrow(tx, data.tenantId);
    const [existing] = await tx
      .select()
      .from(instances)
      .where(eq(instances.tenantId, data.tenantId))
      .for("update");
    // A shared-tier tenant is placed in a pool (a tenant that has a dedicated instance keeps it).
    if (!existing && PLANS[tenant.plan].tier === "shared") {
      const model = data.model ?? config.INSTANCE_MODEL;
      const dimension = data.dimension ?? config.INSTANCE_DIMENSION;
      if (model !== config.INSTANCE_MODEL || dimension !== config.INSTANCE_DIMENSION) {
        throw new AppError({
          code: "CONFLICT",
          message: `The ${PLANS[tenant.plan].title} plan's pools use the model ${config.INSTANCE_MODEL} (${config.INSTANCE_DIMENSION} dimensions); a dedicated plan may choose another`,
        });
      }
      const pool = await placeTenant(tx, config, data.tenantId);
      await recordAudit({
        ctx,
        db: tx,
        input: {
          tenantId: data.tenantId,
          action: "instance.launch",
          targetId: data.tenantId,
          metadata: { tier: "shared", poolId: pool.tenantId },
        },
      });
      return pool;
    }
    if (existing) {
      if (existing.desiredState === "deleted") {
        throw new AppError({
          code: "CONFLICT",
          message: "The instance is being deleted; launch again once it is gone",
        });
      }
      const fixed = [
        ["model", data.model, existing.model],
        ["dimension", data.dimension, existing.dimension],
      ] as const;
      for (const [field, wanted, current] of fixed) {
        if (wanted !== undefined && wanted !== current) {
          throw new AppError({
            code: "CONFLICT",
            message: `The instance's ${field} is ${current}; it cannot change (delete the instance to start over)`,
          });
        }
      }
      const [row] = await tx
        .update(instances)
        .set({ desiredState: "running", restartCount: 0, nextAttemptAt: null, updatedAt: new Date() })
        .where(eq(instances.tenantId, data.tenantId))
        .returning();
      await recordAudit({
        ctx,
        db: tx,
        input: { tenantId: data.tenantId, action: "instance.launch", targetId: data.tenantId },
      });
      return row!;
    }
    const [row] = await tx
      .insert(instances)
      .values({
        tenantId: data.tenantId,
        runtime: config.RUNTIME,
        desiredState: "running",
        state: "pending",
        model: data.model ?? config.INSTANCE_MODEL,
        dimension: data.dimension ?? config.INSTANCE_DIMENSION,
      })
      .returning();
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId: data.tenantId,
        action: "instance.create",
        targetId: data.tenantId,
        metadata: { model: row!.model, dimension: row!.dimension, runtime: row!.runtime },
      },
    });
    return row!;
  });
  if (instance.kind === "pool") {
    reconciler.nudge();
    return toInstance(instance, data.tenantId);
  }
  // A launch wakes a sleeping instance, as a request would.
  if (instance.state === "sleeping" && (await reconciler.wake(data.tenantId))) {
    return { ...toInstance(instance), state: "waking" };
  }
  reconciler.nudge();
  return toInstance(instance);
}
