import { AppError } from "@vdb/http/errors";
import { Scope } from "@vdb/schemas/auth";
import { TenantId } from "@vdb/schemas/ids";
import { instanceAudience, poolAudience } from "@vdb/schemas/tokens";
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { Serves } from "../config";

/** Who called, as proven by an instance token. */
export interface TokenIdentity {
  tenant: string;
  subject: string | null;
  /** The API key the token was minted with (`key` claim), if it was; its revocation ends the token. */
  keyId: string | null;
  scopes: Scope[];
}

/** Checks an instance token and says who it belongs to, or throws an UNAUTHORIZED AppError. */
export type TokenVerifier = (token: string) => Promise<TokenIdentity>;

/**
 * Verifies the control plane's ES256 instance tokens against its JWKS (fetched once, refetched
 * when a token names an unknown `kid`, so signing keys rotate without restarting instances).
 *
 * @example
 * const verify = createTokenVerifier({ jwksUrl, issuer, serves: { kind: "tenant", tenantId: "ten_…" } });
 * const { scopes } = await verify(bearerToken);
 */
export function createTokenVerifier(opts: {
  jwksUrl: string;
  issuer: string;
  /** The tenant whose tokens pass, or the pool whose tokens pass (each naming its tenant). */
  serves: Serves;
  /** A key set to use instead of fetching `jwksUrl` (tests). */
  keys?: JWTVerifyGetKey;
  /** Whether the tenant's API key a token names was revoked (checked on every use, remembered or not). */
  isKeyRevoked?: (keyId: string, tenant: string) => Promise<boolean>;
}): TokenVerifier {
  // 15 s, not jose's 5 s: a busy control plane answering slowly is not an outage. The key set is
  // re-read at least every minute (jose keeps it 10 minutes by default), so a retired signing key
  // stops verifying here within about two (this minute plus the verified-token memory below).
  const keys =
    opts.keys ?? createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: 15_000, cacheMaxAge: 60_000 });
  const { serves } = opts;
  const audience = serves.kind === "pool" ? poolAudience(serves.poolId) : instanceAudience(serves.tenantId);
  // Verified tokens are remembered for at most a minute (never past their expiry): an ES256
  // verification per request would cost more than the search it guards. A retired signing key
  // therefore stops working here within a minute.
  const verified = new Map<string, { identity: TokenIdentity; until: number }>();
  return async (token) => {
    const now = Date.now();
    const hit = verified.get(token);
    const identity = hit && hit.until > now ? hit.identity : await verifyAndRemember(token, now);
    if (identity.keyId && (await opts.isKeyRevoked?.(identity.keyId, identity.tenant))) {
      throw new AppError({
        code: "UNAUTHORIZED",
        message: "Token was issued with an API key that has been revoked",
      });
    }
    return identity;
  };

  async function verifyAndRemember(token: string, now: number): Promise<TokenIdentity> {
    const identity = await verifyToken(token);
    const expiresAt = typeof identity.expiresAt === "number" ? identity.expiresAt * 1000 : now;
    if (verified.size >= 10_000) verified.clear();
    verified.set(token, { identity: identity.value, until: Math.min(expiresAt, now + 60_000) });
    return identity.value;
  }

  async function verifyToken(
    token: string,
  ): Promise<{ value: TokenIdentity; expiresAt: number | undefined }> {
    let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: opts.issuer, audience, algorithms: ["ES256"] }));
    } catch (error) {
      throw tokenError(error);
    }
    const tenant = tokenTenant(payload);
    const scopes = typeof payload.scope === "string" ? payload.scope.split(" ") : [];
    return {
      value: {
        tenant,
        subject: typeof payload.sub === "string" ? payload.sub : null,
        keyId: typeof payload.key === "string" ? payload.key : null,
        scopes: scopes.flatMap((scope) => {
          const parsed = Scope.safeParse(scope);
          return parsed.success ? [parsed.data] : [];
        }),
      },
      expiresAt: payload.exp,
    };
  }

  /**
   * The tenant a verified token is for. A dedicated instance's audience already names the
   * tenant; the claim is checked too so a token minted with a mismatched pair is refused rather
   * than trusted on one of the two. A pool's audience names the pool: the `pool` claim must say
   * the same, and the `tenant` claim (signed by the control plane, which places tenants) is the
   * one namespace the caller reaches.
   */
  function tokenTenant(payload: Record<string, unknown>): string {
    if (serves.kind === "tenant") {
      if (payload.tenant !== serves.tenantId) {
        throw new AppError({ code: "UNAUTHORIZED", message: "Token is for another tenant" });
      }
      return serves.tenantId;
    }
    if (payload.pool !== serves.poolId) {
      throw new AppError({ code: "UNAUTHORIZED", message: "Token is for another pool" });
    }
    const tenant = TenantId.safeParse(payload.tenant);
    if (!tenant.success) throw new AppError({ code: "UNAUTHORIZED", message: "Token names no tenant" });
    return tenant.data;
  }
}

function tokenError(error: unknown): AppError {
  if (error instanceof errors.JWTExpired) {
    return new AppError({ code: "UNAUTHORIZED", message: "Token has expired; get a new one" });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const message =
      error.claim === "aud"
        ? "Token is not for this instance (wrong audience)"
        : error.claim === "iss"
          ? "Token was not issued by this instance's control plane (wrong issuer)"
          : `Token claim "${error.claim}" is invalid`;
    return new AppError({ code: "UNAUTHORIZED", message });
  }
  // The JWKS could not be fetched or read: the control plane is down, not the caller's fault.
  // (jose reports a non-200 or unparsable JWKS response with its generic error class.)
  if (
    !(error instanceof errors.JOSEError) ||
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    error.code === errors.JOSEError.code
  ) {
    return new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "Cannot verify tokens right now (signing keys unreachable); retry shortly",
      cause: error,
    });
  }
  return new AppError({
    code: "UNAUTHORIZED",
    message: "Token is invalid (malformed, or not signed by a known key)",
  });
}
