import { AppError } from "@vdb/http/errors";
import { newId } from "@vdb/schemas/ids";
import type { SigningKey } from "@vdb/schemas/tokens";
import { desc, eq, inArray, ne, sql } from "drizzle-orm";
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import type { Database } from "../lib/db/client";
import { signingKeys } from "../lib/db/schema";
import { isUniqueViolation } from "../lib/errors";

const ALG = "ES256";
const CACHE_MS = 5_000;

type Row = typeof signingKeys.$inferSelect;

export function toSigningKey(row: Row): SigningKey {
  return {
    kid: row.kid,
    alg: row.alg,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    retiredAt: row.retiredAt?.toISOString() ?? null,
  };
}

/**
 * Asymmetric keys that sign instance tokens. One key is `active` (signs); rotation demotes it
 * to `previous` (still in the JWKS, so tokens it signed keep verifying) until it is retired.
 * Reads are cached for a few seconds so every process converges on a rotation quickly.
 */
export class SigningKeyStore {
  private cache: { at: number; rows: Row[] } | null = null;

  constructor(private readonly db: Database) {}

  private async rows(): Promise<Row[]> {
    if (this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache.rows;
    const rows = await this.db
      .select()
      .from(signingKeys)
      .where(ne(signingKeys.status, "retired"))
      .orderBy(desc(signingKeys.createdAt));
    this.cache = { at: Date.now(), rows };
    return rows;
  }

  private invalidate(): void {
    this.cache = null;
  }

  /** Creates the first key when there is none. Safe when several processes start at once. */
  async ensureActiveKey(): Promise<void> {
    this.invalidate();
    if ((await this.rows()).some((row) => row.status === "active")) return;
    try {
      await this.db.insert(signingKeys).values(await newKeyRow());
    } catch (error) {
      if (!isUniqueViolation(error)) throw error; // another process created it first
    }
    this.invalidate();
  }

  async list(): Promise<SigningKey[]> {
    const rows = await this.db.select().from(signingKeys).orderBy(desc(signingKeys.createdAt));
    return rows.map(toSigningKey);
  }

  /** Makes a new key active; the old active one becomes `previous` and keeps verifying. */
  async rotate(): Promise<SigningKey> {
    const row = await newKeyRow();
    await this.db.transaction(async (tx) => {
      await tx.update(signingKeys).set({ status: "previous" }).where(eq(signingKeys.status, "active"));
      await tx.insert(signingKeys).values(row);
    });
    this.invalidate();
    return toSigningKey({ ...row, createdAt: new Date(), retiredAt: null });
  }

  /** Removes a non-active key from the JWKS: tokens it signed stop verifying. */
  async retire(kid: string): Promise<SigningKey> {
    const [row] = await this.db.select().from(signingKeys).where(eq(signingKeys.kid, kid)).limit(1);
    if (!row) throw new AppError({ code: "NOT_FOUND", message: `Signing key ${kid} does not exist` });
    if (row.status === "active") {
      throw new AppError({
        code: "CONFLICT",
        message: "The active signing key cannot be retired: rotate first",
      });
    }
    const [retired] = await this.db
      .update(signingKeys)
      .set({ status: "retired", retiredAt: sql`coalesce(${signingKeys.retiredAt}, now())` })
      .where(inArray(signingKeys.kid, [kid]))
      .returning();
    this.invalidate();
    return toSigningKey(retired!);
  }

  /** The public keys that verify tokens: the active key and every `previous` one. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const rows = await this.rows();
    return { keys: rows.map((row) => ({ ...row.publicJwk, kid: row.kid, alg: row.alg, use: "sig" }) as JWK) };
  }

  async sign(
    claims: JWTPayload & { aud: string; sub: string },
    ttlSeconds: number,
  ): Promise<{ token: string; kid: string }> {
    const active = (await this.rows()).find((row) => row.status === "active");
    if (!active) throw new AppError({ code: "SERVICE_UNAVAILABLE", message: "No active signing key" });
    const key = await importJWK(active.privateJwk as JWK, active.alg);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: active.alg, kid: active.kid, typ: "JWT" })
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(key);
    return { token, kid: active.kid };
  }

  /** Verifies a token as an instance would, against the current JWKS. */
  async verify(token: string, opts: { audience: string; issuer: string }) {
    const jwks = createLocalJWKSet(await this.jwks());
    return jwtVerify(token, jwks, { audience: opts.audience, issuer: opts.issuer, algorithms: [ALG] });
  }
}

async function newKeyRow() {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  return {
    kid: newId("signingKey"),
    alg: ALG,
    status: "active" as const,
    publicJwk: { ...(await exportJWK(publicKey)) },
    privateJwk: { ...(await exportJWK(privateKey)) },
  };
}
