import { AppError } from "@vdb/http/errors";
import { ChangePasswordInput, type PasswordChanged } from "@vdb/schemas/auth";
import { and, eq, ne } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import type { Ctx } from "../lib/context";
import { sessions, users } from "../lib/db/schema";
import { hashPassword, hashSecret, verifyPassword } from "../lib/secrets";

/**
 * A console user changes their own password: the current one is checked (a wrong one counts as
 * a failed login, throttled the same way), and every other session of theirs ends, so a
 * password someone else knew stops giving access at once. The calling session stays.
 */
export async function changePassword({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: ChangePasswordInput & { sessionToken: string };
}): Promise<PasswordChanged> {
  const principal = ctx.principal;
  if (principal?.kind !== "user") {
    throw new AppError({ code: "UNAUTHORIZED", message: "Changing a password needs a session token" });
  }
  const { currentPassword, newPassword } = ChangePasswordInput.parse(input);
  const { db, loginThrottle } = ctx.services;
  await loginThrottle.check(principal.email, ctx.request.ip);
  const [user] = await db.select().from(users).where(eq(users.id, principal.userId)).limit(1);
  if (!user) throw new AppError({ code: "UNAUTHORIZED", message: "This user no longer exists" });
  if (!(await verifyPassword(currentPassword, user.passwordHash))) {
    await loginThrottle.recordFailure(principal.email, ctx.request.ip);
    throw new AppError({
      code: "VALIDATION_FAILED",
      message: "The current password is wrong",
      issues: [{ path: "currentPassword", message: "is wrong" }],
    });
  }
  const passwordHash = await hashPassword(newPassword, ctx.services.config.PASSWORD_HASH_COST);
  const ended = await db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash, mustChangePassword: false }).where(eq(users.id, user.id));
    const others = await tx
      .delete(sessions)
      .where(and(eq(sessions.userId, user.id), ne(sessions.tokenHash, hashSecret(input.sessionToken))))
      .returning({ id: sessions.id });
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId: null,
        action: "user.password_change",
        targetId: user.id,
        metadata: { endedSessions: others.length },
      },
    });
    return others.length;
  });
  return { ok: true, endedSessions: ended };
}
