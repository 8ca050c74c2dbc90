import { ListTenantsInput, type Tenant } from "@vdb/schemas/tenants";
import { and, desc, inArray, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { isOperator, requirePrincipal } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { containsIgnoringCase, olderThanCursor, toPage } from "../lib/cursor";
import { tenants } from "../lib/db/schema";
import { toTenant } from "./to-tenant";

/** Newest first. Operators see every tenant; anyone else only the tenants they belong to. */
export async function listTenants({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof ListTenantsInput>;
}): Promise<{ items: Tenant[]; nextCursor: string | null }> {
  const principal = requirePrincipal(ctx.principal);
  const { limit, cursor, search } = ListTenantsInput.parse(input);
  const older = olderThanCursor(cursor, { createdAt: tenants.createdAt, id: tenants.id });
  const filters: SQL[] = [];
  if (!isOperator(principal)) {
    const visible =
      principal.kind === "apiKey"
        ? [principal.tenantId]
        : principal.memberships.map((membership) => membership.tenantId);
    if (visible.length === 0) return { items: [], nextCursor: null };
    filters.push(inArray(tenants.id, visible));
  }
  if (search) {
    filters.push(containsIgnoringCase([tenants.slug, tenants.name], search));
  }
  if (older) filters.push(older);
  const rows = await ctx.services.db
    .select()
    .from(tenants)
    .where(and(...filters))
    .orderBy(desc(tenants.createdAt), desc(tenants.id))
    .limit(limit + 1);
  return toPage(rows, limit, toTenant);
}
