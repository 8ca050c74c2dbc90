import { randomBytes } from "node:crypto";
import { hashPassword } from "../lib/secrets";

/**
 * A password an administrator hands over (an invite, an added user, a reset, the first
 * operator's generated one): 16 URL-safe characters from 96 random bits. The account it goes
 * on is marked `mustChangePassword`, so its first session can do nothing but replace it. `cost`:
 * `PASSWORD_HASH_COST`.
 */
export async function newTemporaryPassword(
  cost: number,
): Promise<{ password: string; passwordHash: string }> {
  const password = randomBytes(12).toString("base64url");
  return { password, passwordHash: await hashPassword(password, cost) };
}
