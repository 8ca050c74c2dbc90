import { AppError } from "@vdb/http/errors";
import { SetOperatorInput, type User, UserRef, type UserWithTemporaryPassword } from "@vdb/schemas/auth";
import { and, count, eq, inArray } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireOperator } from "../auth/authorize";
import { forgetAccountFailures } from "../auth/login-throttle";
import type { Ctx } from "../lib/context";
import type { Database } from "../lib/db/client";
import { memberships, sessions, tenants, users } from "../lib/db/schema";
import { newTemporaryPassword } from "./temporary-password";
import { loadMemberships, toUser } from "./to-user";

/**
 * An operator's changes to another console user: a password reset, the operator flag, removal.
 * None applies to the caller themselves (their own password is changed on the Account page), so
 * an operator cannot lock the platform out of its last operator by accident.
 */
function requireOtherUser(ctx: Ctx, userId: string, what: string): void {
  const who = requireOperator(ctx.principal);
  if (who.kind === "user" && who.userId === userId) {
    throw new AppError({ code: "FORBIDDEN", message: `You cannot ${what} yourself: ask another operator` });
  }
}

async function findUserOrThrow(db: Database, userId: string) {
  const [row] = await db.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!row) throw new AppError({ code: "NOT_FOUND", message: `No user ${userId}` });
  return row;
}

/**
 * Gives a user a new temporary password (returned once), ends every session of theirs and refills
 * their email's failed-login budget: the way back in for someone who forgot theirs or was locked
 * out. Their next login must replace it.
 */
export async function issueTemporaryPassword({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: UserRef;
}): Promise<UserWithTemporaryPassword> {
  const { userId } = UserRef.parse(input);
  requireOtherUser(ctx, userId, "reset the password of");
  const { password, passwordHash } = await newTemporaryPassword(ctx.services.config.PASSWORD_HASH_COST);
  const user = await ctx.services.db.transaction(async (tx) => {
    const [row] = await tx
      .update(users)
      .set({ passwordHash, mustChangePassword: true })
      .where(eq(users.id, userId))
      .returning();
    if (!row) throw new AppError({ code: "NOT_FOUND", message: `No user ${userId}` });
    const ended = await tx.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id });
    await forgetAccountFailures(tx, row.email);
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId: null,
        action: "user.password_reset",
        targetId: userId,
        metadata: { email: row.email, endedSessions: ended.length },
      },
    });
    return toUser(row, await loadMemberships(tx, userId));
  });
  return { user, temporaryPassword: password };
}

/** Grants or revokes the platform-wide operator flag; it applies from the user's next request. */
export async function setOperator({ ctx, input }: { ctx: Ctx; input: SetOperatorInput }): Promise<User> {
  const { userId, isOperator } = SetOperatorInput.parse(input);
  requireOtherUser(ctx, userId, isOperator ? "make an operator of" : "revoke the operator role of");
  return ctx.services.db.transaction(async (tx) => {
    const [row] = await tx.update(users).set({ isOperator }).where(eq(users.id, userId)).returning();
    if (!row) throw new AppError({ code: "NOT_FOUND", message: `No user ${userId}` });
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId: null,
        action: isOperator ? "user.operator_grant" : "user.operator_revoke",
        targetId: userId,
        metadata: { email: row.email },
      },
    });
    return toUser(row, await loadMemberships(tx, userId));
  });
}

/**
 * Deletes a console user: their sessions and tenant roles go with them; audit entries keep their
 * id and email. Refused while they are the last owner of a tenant that has owners (make someone
 * else owner first), like removing that membership would be.
 */
export async function removeUser({ ctx, input }: { ctx: Ctx; input: UserRef }): Promise<{ ok: true }> {
  const { userId } = UserRef.parse(input);
  requireOtherUser(ctx, userId, "remove");
  return ctx.services.db.transaction(async (tx) => {
    const user = await findUserOrThrow(tx, userId);
    const owned = await tx
      .select({ tenantId: memberships.tenantId })
      .from(memberships)
      .where(and(eq(memberships.userId, userId), eq(memberships.role, "owner")));
    if (owned.length > 0) {
      const owners = await tx
        .select({ tenantName: tenants.name, n: count() })
        .from(memberships)
        .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
        .where(
          and(
            inArray(
              memberships.tenantId,
              owned.map((row) => row.tenantId),
            ),
            eq(memberships.role, "owner"),
          ),
        )
        .groupBy(memberships.tenantId, tenants.name);
      const lastOwnerOf = owners.filter((row) => row.n <= 1).map((row) => row.tenantName);
      if (lastOwnerOf.length > 0) {
        throw new AppError({
          code: "CONFLICT",
          message: `${user.email} is the last owner of ${lastOwnerOf.join(", ")}: make someone else owner first`,
        });
      }
    }
    const held = await loadMemberships(tx, userId);
    await tx.delete(users).where(eq(users.id, userId));
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId: null,
        action: "user.remove",
        targetId: userId,
        metadata: { email: user.email, memberships: held },
      },
    });
    return { ok: true as const };
  });
}
