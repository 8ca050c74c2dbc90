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
import type { Logger } from "../lib/logger";
import { isSealedSecret, type MasterKeys } from "../lib/master-key";

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
 * Private keys are stored sealed under the master key (AES-256-GCM, bound to their `kid`): the
 * store alone, or a copy of it, cannot mint tokens.
 */
export class SigningKeyStore {
  private cache: { at: number; rows: Row[] } | null = null;
  private readonly privateKeys = new Map<string, ReturnType<typeof importJWK>>();

  constructor(
    private readonly db: Database,
    private readonly masterKeys: MasterKeys,
  ) {}

  /**
   * Seals private keys stored in the clear (rows from before encryption at rest) and re-seals
   * those sealed under a previous master key, so VDB_MASTER_KEY_PREVIOUS can then be dropped.
   * Idempotent; several processes doing it at once write equivalent rows.
   */
  async sealPrivateKeys(logger: Logger): Promise<void> {
    const rows = await this.db.select().from(signingKeys);
    let resealed = 0;
    for (const row of rows) {
      const stored = row.privateJwk;
      if (isSealedSecret(stored) && this.masterKeys.isCurrent(stored)) continue;
      let plaintext: string;
      try {
        plaintext = isSealedSecret(stored) ? this.masterKeys.open(stored, row.kid) : JSON.stringify(stored);
      } catch (error) {
        // A retired key never signs again: losing it is harmless. Any other key is needed.
        if (row.status === "retired") continue;
        throw error;
      }
      await this.db
        .update(signingKeys)
        .set({ privateJwk: { ...this.masterKeys.seal(plaintext, row.kid) } })
        .where(eq(signingKeys.kid, row.kid));
      resealed += 1;
    }
    if (resealed > 0) logger.info({ resealed }, "signing keys sealed under the current master key");
    this.invalidate();
  }

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
      await this.db.insert(signingKeys).values(await this.newKeyRow());
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
    const row = await this.newKeyRow();
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

  /**
   * Signs `claims` for `ttlSeconds`. JWT times are whole seconds, so `iat` is the current second
   * rounded down and the token lives up to one second less than `ttlSeconds`: `expiresAt` is its
   * own `exp`, which is what a caller must report (never `now + ttl`). `now` is the signer's
   * clock (ms; default `Date.now()`).
   */
  async sign(
    claims: JWTPayload & { aud: string; sub: string },
    ttlSeconds: number,
    now = Date.now(),
  ): Promise<{ token: string; kid: string; expiresAt: Date }> {
    const { kid, key } = await this.activePrivateKey();
    const issuedAt = Math.floor(now / 1000);
    const exp = issuedAt + ttlSeconds;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid, typ: "JWT" })
      .setIssuedAt(issuedAt)
      .setExpirationTime(exp)
      .sign(key);
    return { token, kid, expiresAt: new Date(exp * 1000) };
  }

  /** The active key's private half, opened from its sealed row once per key and process. */
  async activePrivateKey(): Promise<{ kid: string; key: Awaited<ReturnType<typeof importJWK>> }> {
    const active = (await this.rows()).find((row) => row.status === "active");
    if (!active) throw new AppError({ code: "SERVICE_UNAVAILABLE", message: "No active signing key" });
    let key = this.privateKeys.get(active.kid);
    if (!key) {
      const stored = active.privateJwk;
      const jwk = (
        isSealedSecret(stored) ? JSON.parse(this.masterKeys.open(stored, active.kid)) : stored
      ) as JWK;
      key = importJWK(jwk, active.alg);
      this.privateKeys.set(active.kid, key);
      key.catch(() => this.privateKeys.delete(active.kid));
    }
    return { kid: active.kid, key: await key };
  }

  /**
   * Verifies a token as an instance would, against the current JWKS; its expiry by `opts.now`
   * (ms; default `Date.now()`).
   */
  async verify(token: string, opts: { audience: string; issuer: string; now?: number }) {
    const jwks = createLocalJWKSet(await this.jwks());
    return jwtVerify(token, jwks, {
      audience: opts.audience,
      issuer: opts.issuer,
      algorithms: [ALG],
      ...(opts.now === undefined ? {} : { currentDate: new Date(opts.now) }),
    });
  }

  private async newKeyRow() {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = newId("signingKey");
    return {
      kid,
      alg: ALG,
      status: "active" as const,
      publicJwk: { ...(await exportJWK(publicKey)) },
      privateJwk: { ...this.masterKeys.seal(JSON.stringify(await exportJWK(privateKey)), kid) },
    };
  }
}
