import { AppError } from "@vdb/http/errors";
import { RemoveMemberInput } from "@vdb/schemas/auth";
import { and, eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import type { Ctx } from "../lib/context";
import { memberships } from "../lib/db/schema";
import { keepAnOwner, memberRole, requireMemberManager } from "./member-rules";

/**
 * Takes a person's role on the tenant away (their account stays: it may belong to other
 * tenants). Their sessions lose access to the tenant on the next request, since memberships are
 * read per request.
 */
export async function removeMember({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: RemoveMemberInput;
}): Promise<{ removed: true }> {
  const { tenantId, userId } = RemoveMemberInput.parse(input);
  requireMemberManager(ctx.principal, tenantId, false);
  return ctx.services.db.transaction(async (tx) => {
    const role = await memberRole(tx, tenantId, userId);
    if (!role)
      throw new AppError({ code: "NOT_FOUND", message: `User ${userId} is not a member of this tenant` });
    if (role === "owner") {
      requireMemberManager(ctx.principal, tenantId, true);
      await keepAnOwner(tx, tenantId);
    }
    await tx
      .delete(memberships)
      .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)));
    await recordAudit({
      ctx,
      db: tx,
      input: { tenantId, action: "member.remove", targetId: userId, metadata: { role } },
    });
    return { removed: true as const };
  });
}
