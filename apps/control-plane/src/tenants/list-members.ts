import { ListMembersInput, type MemberList } from "@vdb/schemas/auth";
import { asc, eq } from "drizzle-orm";
import type { Ctx } from "../lib/context";
import { memberships, users } from "../lib/db/schema";
import { requireMemberManager } from "./member-rules";
import { findTenantOrThrow } from "./to-tenant";

/**
 * Everyone with a role on the tenant, by email. Not paged: a tenant's people are few (tens),
 * and the Members screen shows them on one page.
 */
export async function listMembers({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: ListMembersInput;
}): Promise<MemberList> {
  const { tenantId } = ListMembersInput.parse(input);
  requireMemberManager(ctx.principal, tenantId, false);
  await findTenantOrThrow(ctx.services.db, tenantId);
  const rows = await ctx.services.db
    .select({
      userId: users.id,
      email: users.email,
      name: users.name,
      role: memberships.role,
      addedAt: memberships.createdAt,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.tenantId, tenantId))
    .orderBy(asc(users.email));
  return { items: rows.map((row) => ({ ...row, addedAt: row.addedAt.toISOString() })) };
}
