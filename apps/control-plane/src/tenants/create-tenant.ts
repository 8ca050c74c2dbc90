import { AppError } from "@vdb/http/errors";
import { newId } from "@vdb/schemas/ids";
import { CreateTenantInput, type Tenant } from "@vdb/schemas/tenants";
import type { z } from "zod";
import { recordAudit } from "../audit/record-audit";
import { requireOperator } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { tenants } from "../lib/db/schema";
import { isUniqueViolation } from "../lib/errors";
import { toTenant } from "./to-tenant";

/** Creates a tenant (seed `/provision`). Operators only; the slug is unique. */
export async function createTenant({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof CreateTenantInput>;
}): Promise<Tenant> {
  requireOperator(ctx.principal);
  const data = CreateTenantInput.parse(input);
  try {
    return await ctx.services.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(tenants)
        .values({ id: newId("tenant"), slug: data.slug, name: data.name, plan: data.plan })
        .returning();
      if (!row) throw new Error("insert returned no row");
      await recordAudit({
        ctx,
        db: tx,
        input: {
          tenantId: row.id,
          action: "tenant.create",
          targetId: row.id,
          metadata: { slug: row.slug, plan: row.plan },
        },
      });
      return toTenant(row);
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError({ code: "CONFLICT", message: `The slug "${data.slug}" is already taken` });
    }
    throw error;
  }
}
