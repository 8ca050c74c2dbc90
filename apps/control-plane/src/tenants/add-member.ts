import { AppError } from "@vdb/http/errors";
import { AddMemberInput, type Membership } from "@vdb/schemas/auth";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import type { Ctx } from "../lib/context";
import { memberships, users } from "../lib/db/schema";
import { keepAnOwner, memberRole, requireMemberManager } from "./member-rules";
import { findTenantOrThrow } from "./to-tenant";

/** Gives a user a role on a tenant, or changes the role they have (see `requireMemberManager`). */
export async function addMember({ ctx, input }: { ctx: Ctx; input: AddMemberInput }): Promise<Membership> {
  const { tenantId, userId, role } = AddMemberInput.parse(input);
  requireMemberManager(ctx.principal, tenantId, role === "owner");
  return ctx.services.db.transaction(async (tx) => {
    await findTenantOrThrow(tx, tenantId);
    const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).limit(1);
    if (!user) throw new AppError({ code: "NOT_FOUND", message: `User ${userId} does not exist` });
    const current = await memberRole(tx, tenantId, userId);
    if (current === "owner" && role !== "owner") {
      requireMemberManager(ctx.principal, tenantId, true);
      await keepAnOwner(tx, tenantId);
    }
    await tx
      .insert(memberships)
      .values({ userId, tenantId, role })
      .onConflictDoUpdate({ target: [memberships.userId, memberships.tenantId], set: { role } });
    await recordAudit({
      ctx,
      db: tx,
      input: { tenantId, action: "member.set", targetId: userId, metadata: { role, previousRole: current } },
    });
    return { tenantId, role };
  });
}
