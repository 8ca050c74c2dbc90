import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** A new random secret with a prefix that says what it is: `vdbk_` API keys, `vdbs_` sessions. */
export function newSecret(prefix: "vdbk" | "vdbs"): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

/** Secrets are high-entropy, so one SHA-256 is enough to store them (and cheap to check). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

const SCRYPT = { N: 16_384, r: 8, p: 1, keyLength: 64 };

function scryptAsync(password: string, salt: Buffer, params: typeof SCRYPT): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      params.keyLength,
      { N: params.N, r: params.r, p: params.p, maxmem: 64 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** `scrypt$N$r$p$salt$hash`, parameters stored so they can be raised later without a migration. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT);
  return [
    "scrypt",
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString("base64url"),
    hash.toString("base64url"),
  ].join("$");
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
