import { ListTenantsInput, type Tenant } from "@vdb/schemas/tenants";
import { and, desc, eq, ilike, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import type { z } from "zod";
import { isOperator, requirePrincipal } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { decodeCursor, toPage } from "../lib/cursor";
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
  const after = decodeCursor(cursor);
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
    const pattern = `%${search.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
    filters.push(or(ilike(tenants.slug, pattern), ilike(tenants.name, pattern)) as SQL);
  }
  if (after) {
    filters.push(
      or(
        lt(tenants.createdAt, after.createdAt),
        and(eq(tenants.createdAt, after.createdAt), sql`${tenants.id} < ${after.id}`),
      ) as SQL,
    );
  }
  const rows = await ctx.services.db
    .select()
    .from(tenants)
    .where(and(...filters))
    .orderBy(desc(tenants.createdAt), desc(tenants.id))
    .limit(limit + 1);
  return toPage(rows, limit, toTenant);
}
