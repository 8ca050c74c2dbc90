import { AppError } from "@vdb/http/errors";
import type { Instance } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { servingInstance } from "./serving-instance";
import { toInstance } from "./to-instance";

/** Seed `/status/:id`. */
export async function getInstance({ ctx, input }: { ctx: Ctx; input: TenantRef }): Promise<Instance> {
  const { tenantId } = TenantRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const serving = await servingInstance(ctx.services.db, tenantId);
  if (!serving)
    throw new AppError({ code: "NOT_FOUND", message: "This tenant has no instance; launch one first" });
  return toInstance(serving.row, tenantId);
}
