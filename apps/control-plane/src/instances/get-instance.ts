import { AppError } from "@vdb/http/errors";
import type { Instance } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import { eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { instances } from "../lib/db/schema";
import { toInstance } from "./to-instance";

/** Seed `/status/:id`. */
export async function getInstance({ ctx, input }: { ctx: Ctx; input: TenantRef }): Promise<Instance> {
  const { tenantId } = TenantRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const [row] = await ctx.services.db
    .select()
    .from(instances)
    .where(eq(instances.tenantId, tenantId))
    .limit(1);
  if (!row)
    throw new AppError({ code: "NOT_FOUND", message: "This tenant has no instance; launch one first" });
  return toInstance(row);
}
