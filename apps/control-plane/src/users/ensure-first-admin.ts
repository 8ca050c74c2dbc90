import { asc, count, eq, sql } from "drizzle-orm";
import { systemCtx } from "../lib/context";
import { users } from "../lib/db/schema";
import type { Services } from "../services";
import { insertUser } from "./create-user";
import { newTemporaryPassword } from "./temporary-password";

/**
 * On a store with no users, creates the first operator from config, or with a generated
 * password that their first login must replace. `password` is returned only when it was generated, so the caller prints it once;
 * an operator's own VDB_ADMIN_PASSWORD is never echoed back (it would land in logs).
 *
 * On a store that has users, `email` is an operator's who can log in: VDB_ADMIN_EMAIL's when that
 * user is an operator, else the longest-standing operator's (VDB_ADMIN_EMAIL applies to the first
 * start only, so a later start with another one, or none, must not name an account that does not exist).
 */
export async function ensureFirstAdmin(
  services: Services,
): Promise<{ email: string; password: string | null; created: boolean }> {
  const email = services.config.VDB_ADMIN_EMAIL;
  const [row] = await services.db.select({ n: count() }).from(users);
  if ((row?.n ?? 0) > 0) {
    const [operator] = await services.db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.isOperator, true))
      .orderBy(sql`${users.email} = ${email} desc`, asc(users.createdAt))
      .limit(1);
    return { email: operator?.email ?? email, password: null, created: false };
  }
  const chosen = services.config.VDB_ADMIN_PASSWORD;
  const ctx = systemCtx(services);
  if (chosen) {
    await insertUser(ctx, { email, name: "Administrator", password: chosen, isOperator: true });
    return { email, password: null, created: true };
  }
  const generated = await newTemporaryPassword(services.config.PASSWORD_HASH_COST);
  await insertUser(
    ctx,
    { email, name: "Administrator", passwordHash: generated.passwordHash, isOperator: true },
    { mustChangePassword: true },
  );
  return { email, password: generated.password, created: true };
}
