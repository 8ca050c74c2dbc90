import { AppError } from "@vdb/http/errors";
import type { Instance } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { instances } from "../lib/db/schema";
import { refuseDuringTierMove } from "../tenants/tier-move-job";
import { findPlacement } from "./serving-instance";
import { toInstance } from "./to-instance";

async function setDesiredState(
  ctx: Ctx,
  input: TenantRef,
  desired: "stopped" | "deleted",
): Promise<Instance> {
  const { tenantId } = TenantRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  const row = await ctx.services.db.transaction(async (tx) => {
    await refuseDuringTierMove(tx, tenantId, `${desired === "stopped" ? "stop" : "delete"} its instance`);
    const [updated] = await tx
      .update(instances)
      .set({ desiredState: desired, updatedAt: new Date() })
      .where(eq(instances.tenantId, tenantId))
      .returning();
    if (!updated) {
      if (await findPlacement(tx, tenantId)) {
        throw new AppError({
          code: "CONFLICT",
          message:
            "This tenant is on the shared tier: its pool serves other tenants and is not stopped or deleted for one",
        });
      }
      throw new AppError({ code: "NOT_FOUND", message: "This tenant has no instance; launch one first" });
    }
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId,
        action: desired === "stopped" ? "instance.stop" : "instance.delete",
        targetId: tenantId,
      },
    });
    return updated;
  });
  ctx.services.reconciler.nudge();
  return toInstance(row);
}

/** Seed `/stop/:id`: the instance should stop; its data stays for the next launch. */
export function stopInstance({ ctx, input }: { ctx: Ctx; input: TenantRef }): Promise<Instance> {
  return setDesiredState(ctx, input, "stopped");
}

/** Seed `/delete-instance`, `/delete/:id`: stop the instance and delete its data. */
export function deleteInstance({ ctx, input }: { ctx: Ctx; input: TenantRef }): Promise<Instance> {
  return setDesiredState(ctx, input, "deleted");
}
