import { randomBytes } from "node:crypto";
import { count } from "drizzle-orm";
import { systemCtx } from "../lib/context";
import { users } from "../lib/db/schema";
import type { Services } from "../services";
import { insertUser } from "./create-user";

/**
 * On a store with no users, creates the first operator from config, or with a generated
 * password. `password` is returned only when it was generated, so the caller prints it once;
 * an operator's own VDB_ADMIN_PASSWORD is never echoed back (it would land in logs).
 */
export async function ensureFirstAdmin(
  services: Services,
): Promise<{ email: string; password: string | null; created: boolean }> {
  const email = services.config.VDB_ADMIN_EMAIL;
  const [row] = await services.db.select({ n: count() }).from(users);
  if ((row?.n ?? 0) > 0) return { email, password: null, created: false };
  const chosen = services.config.VDB_ADMIN_PASSWORD;
  const password = chosen ?? randomBytes(12).toString("base64url");
  await insertUser(systemCtx(services), { email, name: "Administrator", password, isOperator: true });
  return { email, password: chosen ? null : password, created: true };
}
