import { AppError } from "@vdb/http/errors";
import type { Principal, TenantRole } from "@vdb/schemas/auth";
import { and, count, eq } from "drizzle-orm";
import { isOperator, requireTenantScope, roleIn } from "../auth/authorize";
import type { Database } from "../lib/db/client";
import { memberships } from "../lib/db/schema";

/**
 * Who may manage a tenant's members: its owners and admins (and operators). Only an owner or an
 * operator may hand out the owner role or change or remove an owner, so an admin cannot promote
 * themselves past the people who made them admin.
 */
export function requireMemberManager(
  principal: Principal | null,
  tenantId: string,
  touchesOwner: boolean,
): Principal {
  const who = requireTenantScope(principal, tenantId, "admin");
  if (touchesOwner && !isOperator(who) && roleIn(who, tenantId) !== "owner") {
    throw new AppError({
      code: "FORBIDDEN",
      message: "Only the tenant's owner or an operator may grant, change or remove the owner role",
    });
  }
  return who;
}

/** The role `userId` holds on `tenantId`, or null. */
export async function memberRole(db: Database, tenantId: string, userId: string): Promise<TenantRole | null> {
  const [row] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)))
    .limit(1);
  return row?.role ?? null;
}

/** Refuses to leave a tenant that had owners with none: someone must be able to manage it. */
export async function keepAnOwner(db: Database, tenantId: string): Promise<void> {
  const [row] = await db
    .select({ n: count() })
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.role, "owner")));
  if ((row?.n ?? 0) <= 1) {
    throw new AppError({
      code: "CONFLICT",
      message: "This is the tenant's last owner: make someone else owner first",
    });
  }
}
