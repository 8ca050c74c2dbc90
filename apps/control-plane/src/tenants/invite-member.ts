import { AppError } from "@vdb/http/errors";
import { type InvitedMember, InviteMemberInput } from "@vdb/schemas/auth";
import { newId } from "@vdb/schemas/ids";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import type { Ctx } from "../lib/context";
import { memberships, users } from "../lib/db/schema";
import { isUniqueViolation } from "../lib/errors";
import { newTemporaryPassword } from "../users/temporary-password";
import { memberRole, requireMemberManager } from "./member-rules";
import { findTenantOrThrow } from "./to-tenant";

/**
 * Adds a person to a tenant by email. An email with no account gets one, with a generated
 * temporary password returned once (the console shows it like an API key's secret); their first
 * login must replace it (`requireOwnPassword`). There is no mail server in the product, so no invite link:
 * the admin hands the password over. An existing account just gains the role; its password is
 * never touched, so a tenant admin cannot take over someone's account by inviting them.
 */
export async function inviteMember({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: InviteMemberInput;
}): Promise<InvitedMember> {
  const { tenantId, email, name, role } = InviteMemberInput.parse(input);
  requireMemberManager(ctx.principal, tenantId, role === "owner");
  const { password: temporaryPassword, passwordHash } = await newTemporaryPassword(
    ctx.services.config.PASSWORD_HASH_COST,
  );
  try {
    return await ctx.services.db.transaction(async (tx) => {
      await findTenantOrThrow(tx, tenantId);
      let [user] = await tx.select().from(users).where(eq(users.email, email)).limit(1);
      const isNewAccount = !user;
      if (!user) {
        [user] = await tx
          .insert(users)
          .values({
            id: newId("user"),
            email,
            name: name ?? email.split("@")[0] ?? email,
            passwordHash,
            mustChangePassword: true,
          })
          .returning();
        if (!user) throw new Error("insert returned no row");
      } else if (await memberRole(tx, tenantId, user.id)) {
        throw new AppError({
          code: "CONFLICT",
          message: `${email} is already a member of this tenant: change their role instead`,
        });
      }
      const [membership] = await tx
        .insert(memberships)
        .values({ userId: user.id, tenantId, role })
        .returning();
      if (!membership) throw new Error("insert returned no row");
      await recordAudit({
        ctx,
        db: tx,
        input: {
          tenantId,
          action: "member.invite",
          targetId: user.id,
          metadata: { email, role, isNewAccount },
        },
      });
      return {
        member: {
          userId: user.id,
          email,
          name: user.name,
          role,
          addedAt: membership.createdAt.toISOString(),
        },
        temporaryPassword: isNewAccount ? temporaryPassword : null,
      };
    });
  } catch (error) {
    // Two invites of one new email at once: the second finds the account taken.
    if (isUniqueViolation(error)) {
      throw new AppError({ code: "CONFLICT", message: `${email} was just added by someone else; reload` });
    }
    throw error;
  }
}
