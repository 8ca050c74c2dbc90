import { AppError } from "@vdb/http/errors";
import { Email, Password } from "@vdb/schemas/auth";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { forgetAccountFailures } from "../auth/login-throttle";
import type { Database } from "../lib/db/client";
import { sessions, users } from "../lib/db/schema";
import { hashPassword } from "../lib/secrets";

/**
 * Sets a user's password on the server itself, with no session: the way back in for an operator
 * who lost theirs (`npm run reset-password -- <email>`). Every session of the user ends and their
 * email's failed-login budget refills; the audit log records it as done by the system.
 * `passwordHashCost`: `PASSWORD_HASH_COST`.
 */
export async function resetPassword({
  db,
  passwordHashCost,
  input,
}: {
  db: Database;
  passwordHashCost: number;
  input: { email: string; password: string };
}): Promise<{ userId: string; endedSessions: number }> {
  const email = Email.safeParse(input.email);
  if (!email.success)
    throw invalid(`"${input.email}" ${email.error.issues[0]?.message ?? "is not an email"}`);
  const password = Password.safeParse(input.password);
  if (!password.success)
    throw invalid(`The new password ${password.error.issues[0]?.message ?? "is invalid"}`);
  const passwordHash = await hashPassword(password.data, passwordHashCost);
  return db.transaction(async (tx) => {
    const [user] = await tx
      .update(users)
      .set({ passwordHash, mustChangePassword: false })
      .where(eq(users.email, email.data))
      .returning({ id: users.id });
    if (!user) throw new AppError({ code: "NOT_FOUND", message: `No user has the email ${email.data}` });
    const ended = await tx
      .delete(sessions)
      .where(eq(sessions.userId, user.id))
      .returning({ id: sessions.id });
    await forgetAccountFailures(tx, email.data);
    await recordAudit({
      ctx: {
        principal: null,
        request: { requestId: "reset-password", ip: null, userAgent: "reset-password" },
      },
      db: tx,
      input: {
        tenantId: null,
        action: "user.password_reset",
        targetId: user.id,
        metadata: { email: email.data },
      },
    });
    return { userId: user.id, endedSessions: ended.length };
  });
}

function invalid(message: string): AppError {
  return new AppError({ code: "VALIDATION_FAILED", message });
}
