import { AppError } from "@vdb/http/errors";
import { LoginInput, type Session } from "@vdb/schemas/auth";
import { newId } from "@vdb/schemas/ids";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import type { Ctx } from "../lib/context";
import { sessions, users } from "../lib/db/schema";
import { hashSecret, newSecret, unmatchableHash, verifyPassword } from "../lib/secrets";
import { loadMemberships, toUser } from "../users/to-user";

/**
 * Email + password → a session token (shown once, stored hashed). Failed attempts are throttled
 * per email and per client address (see LoginThrottle), the same for unknown emails.
 */
export async function login({ ctx, input }: { ctx: Ctx; input: LoginInput }): Promise<Session> {
  const { email, password } = LoginInput.parse(input);
  const { db, loginThrottle } = ctx.services;
  await loginThrottle.check(email, ctx.request.ip);
  const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  // An unknown email is checked against a hash at today's cost: a miss costs as long as a wrong password.
  const stored = user?.passwordHash ?? unmatchableHash(ctx.services.config.PASSWORD_HASH_COST);
  const isValid = await verifyPassword(password, stored);
  if (!user || !isValid) {
    await loginThrottle.recordFailure(email, ctx.request.ip);
    throw new AppError({ code: "UNAUTHORIZED", message: "Wrong email or password" });
  }

  const token = newSecret("vdbs");
  const expiresAt = new Date(Date.now() + ctx.services.config.SESSION_TTL_HOURS * 3_600_000);
  await db.transaction(async (tx) => {
    await tx
      .insert(sessions)
      .values({ id: newId("session"), userId: user.id, tokenHash: hashSecret(token), expiresAt });
    await recordAudit({
      ctx: {
        ...ctx,
        principal: {
          kind: "user",
          userId: user.id,
          email,
          isOperator: user.isOperator,
          mustChangePassword: user.mustChangePassword,
          memberships: [],
        },
      },
      db: tx,
      input: { tenantId: null, action: "user.login", targetId: user.id },
    });
  });
  return {
    token,
    expiresAt: expiresAt.toISOString(),
    user: toUser(user, await loadMemberships(db, user.id)),
  };
}
