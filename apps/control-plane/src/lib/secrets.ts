import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** A new random secret with a prefix that says what it is: `vdbk_` API keys, `vdbs_` sessions. */
export function newSecret(prefix: "vdbk" | "vdbs"): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

/** Secrets are high-entropy, so one SHA-256 is enough to store them (and cheap to check). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** scrypt's cost (N) for new password hashes unless `PASSWORD_HASH_COST` says otherwise. */
export const DEFAULT_PASSWORD_HASH_COST = 16_384;
/** The costs `PASSWORD_HASH_COST` accepts: powers of two from 2^10 to 2^16. */
export const PASSWORD_HASH_COSTS = { min: 1024, max: 65_536 };
const SCRYPT = { r: 8, p: 1, keyLength: 64 };

function scryptAsync(password: string, salt: Buffer, params: typeof SCRYPT & { N: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      params.keyLength,
      // scrypt needs 128 · N · r bytes; twice that leaves room.
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/**
 * `scrypt$N$r$p$salt$hash`, parameters stored so they can be raised later without a migration:
 * `cost` (N, from `PASSWORD_HASH_COST`) applies to hashes made from now on; each stored hash is
 * checked with its own.
 */
export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, { ...SCRYPT, N: cost });
  return ["scrypt", cost, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join(
    "$",
  );
}

/**
 * A hash no password matches, at `cost`: what a login with an unknown email is checked against,
 * so that it costs as long as a wrong password.
 */
export function unmatchableHash(cost: number): string {
  return `scrypt$${cost}$${SCRYPT.r}$${SCRYPT.p}$${"A".repeat(22)}$${"A".repeat(86)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scryptAsync(password, Buffer.from(salt, "base64url"), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    keyLength: expected.length,
  });
  return timingSafeEqual(actual, expected);
}
