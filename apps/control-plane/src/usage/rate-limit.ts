import { AppError, toHttpError } from "@vdb/http/errors";
import { BURST_SECONDS, type TakeResult, TokenBuckets } from "@vdb/http/token-buckets";
import type { Principal } from "@vdb/schemas/auth";
import { PLANS, type Plan } from "@vdb/schemas/plans";
import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/env";
import { isPlatformWork } from "../lib/context";
import type { Database } from "../lib/db/client";
import { tenants } from "../lib/db/schema";
import type { Logger } from "../lib/logger";
import type { Services } from "../services";

export { BURST_SECONDS, type TakeResult, TokenBuckets } from "@vdb/http/token-buckets";

/**
 * Requests per second one console user may make (bursts of twice that), whatever tenant: the
 * console is a person clicking. Their data-plane calls also count against the tenant's plan
 * rate (see `limitTenantRequest`), as API keys' calls do.
 */
export const SESSION_REQUESTS_PER_SECOND = 50;

/** A `planOf` reading the tenant's plan from the store (the limiter caches its answers). */
export function planFromStore(db: Database): (tenantId: string) => Promise<Plan | null> {
  return async (tenantId) => {
    const [row] = await db
      .select({ plan: tenants.plan })
      .from(tenants)
      .where(eq(tenants.id, tenantId))
      .limit(1);
    return row?.plan ?? null;
  };
}

export interface RateLimitOptions {
  /**
   * The tenant's plan; null when unknown (not limited: authentication rejects such keys anyway).
   * Default: read from the tenants table of the store the caller passes.
   */
  planOf?: (tenantId: string) => Promise<Plan | null> | Plan | null;
  /** How long a plan lookup is reused (default 5 s): a plan change takes effect within it. */
  planCacheMs?: number;
  /** Default: buckets of this limiter's own (`Services.rateBuckets` in a control plane). */
  buckets?: TokenBuckets;
  now?: () => number;
}

export interface RateLimitVerdict extends TakeResult {
  /** Null for a console session (its own rate, not a plan's). */
  plan: Plan | null;
  rps: number;
  /** Which limit answered: the key's, its tenant's (all its keys and sessions), or the session's. */
  scope: "key" | "tenant" | "session";
}

/** Who is limited, and how: API keys (per key and per tenant) and console sessions; null for anonymous callers. */
export interface KeyRateLimiter {
  (principal: Principal | null, store: { db?: Database; logger?: Logger }): Promise<RateLimitVerdict | null>;
  /** Spends one request of the tenant's shared bucket alone. */
  limitTenant(tenantId: string, store: { db?: Database; logger?: Logger }): Promise<RateLimitVerdict | null>;
}

/**
 * Spends one token of an API key's bucket at its tenant's plan rate, for any transport: the
 * REST middleware below, tRPC's context, the Chroma gateway. Plans are cached per limiter.
 *
 * @example
 * const limitKeys = keyRateLimiter();
 * const verdict = await limitKeys(principal, services);
 * if (verdict && !verdict.isAllowed) throw rateLimitError(verdict);
 */
export function keyRateLimiter(opts: RateLimitOptions = {}): KeyRateLimiter {
  const now = opts.now ?? Date.now;
  const buckets = opts.buckets ?? new TokenBuckets({ now });
  const planCacheMs = opts.planCacheMs ?? 5_000;
  const plans = new Map<string, { plan: Promise<Plan | null>; expiresAt: number }>();

  function planOf(tenantId: string, store: { db?: Database; logger?: Logger }): Promise<Plan | null> {
    const cached = plans.get(tenantId);
    if (cached && cached.expiresAt > now()) return cached.plan;
    // Failing open: a store hiccup must not turn into refusing every request. The failure is
    // cached like an answer, so a store that is down is not asked on every request.
    const plan = Promise.resolve()
      .then(() => {
        if (opts.planOf) return opts.planOf(tenantId);
        if (!store.db) throw new Error("keyRateLimiter: no planOf and no store to read plans from");
        return planFromStore(store.db)(tenantId);
      })
      .catch((error: unknown) => {
        store.logger?.warn(
          { err: error, tenantId },
          "rate limit: plan lookup failed; using the last known plan",
        );
        return cached?.plan ?? null;
      });
    plans.set(tenantId, { plan, expiresAt: now() + planCacheMs });
    if (plans.size > 10_000) {
      for (const [id, entry] of plans) if (entry.expiresAt <= now()) plans.delete(id);
    }
    return plan;
  }

  const limiter: KeyRateLimiter = async (principal, store) => {
    if (principal?.kind === "user") {
      const taken = buckets.take(`session:${principal.userId}`, SESSION_REQUESTS_PER_SECOND);
      return { ...taken, plan: null, rps: SESSION_REQUESTS_PER_SECOND, scope: "session" };
    }
    if (principal?.kind !== "apiKey") return null;
    const plan = await planOf(principal.tenantId, store);
    if (!plan) return null;
    const rps = PLANS[plan].requestsPerSecond;
    const key = buckets.take(principal.keyId, rps);
    if (!key.isAllowed) return { ...key, plan, rps, scope: "key" };
    // Many keys of one tenant share its plan rate: minting keys does not multiply it.
    const tenant = buckets.take(tenantBucket(principal.tenantId), rps);
    if (!tenant.isAllowed) {
      buckets.refund(principal.keyId);
      return { ...tenant, plan, rps, scope: "tenant" };
    }
    return { ...key, plan, rps, scope: "key" };
  };
  limiter.limitTenant = async (tenantId, store) => {
    const plan = await planOf(tenantId, store);
    if (!plan) return null;
    const rps = PLANS[plan].requestsPerSecond;
    return { ...buckets.take(tenantBucket(tenantId), rps), plan, rps, scope: "tenant" };
  };
  return limiter;
}

const tenantBucket = (tenantId: string) => `tenant:${tenantId}`;

/**
 * Spends one request of the tenant's plan rate for a console session's data-plane call (search,
 * embed, chat…): API keys spent theirs in the middleware already, and the platform's own work
 * (ingestion) is not limited. Throws RATE_LIMITED with its Retry-After.
 */
export async function limitTenantRequest(
  principal: Principal | null,
  tenantId: string,
  services: Pick<Services, "rateLimits" | "db" | "logger">,
): Promise<void> {
  // Background work was admitted when it was asked for (and the ingestion queue has its own
  // bound): limiting it here would fail a tenant's documents for its own traffic.
  if (principal?.kind !== "user" || isPlatformWork(principal)) return;
  const verdict = await services.rateLimits.limitTenant(tenantId, services);
  if (verdict && !verdict.isAllowed) throw rateLimitError(verdict);
}

/** The `RateLimit-*` headers of a verdict, and `Retry-After` when it refuses. */
export function rateLimitHeaders(verdict: RateLimitVerdict): Record<string, string> {
  return {
    "RateLimit-Limit": String(verdict.limit),
    "RateLimit-Remaining": String(verdict.remaining),
    "RateLimit-Reset": String(verdict.resetSeconds),
    "RateLimit-Policy": `${verdict.limit};w=${BURST_SECONDS}`,
    ...(verdict.isAllowed ? {} : { "Retry-After": String(verdict.retryAfterSeconds) }),
  };
}

export function rateLimitError(verdict: RateLimitVerdict): AppError {
  const who =
    verdict.scope === "session"
      ? "A console session"
      : verdict.scope === "tenant"
        ? "This tenant (all its keys and sessions together)"
        : "This key";
  const plan = verdict.plan ? `${verdict.plan} plan, ` : "";
  return new AppError({
    code: "RATE_LIMITED",
    message: `${who} may make ${verdict.rps} requests per second (${plan}bursts of ${verdict.limit}); retry in ${verdict.retryAfterSeconds} s`,
    retryAfterSeconds: verdict.retryAfterSeconds,
  });
}

/**
 * Limits each API key to its tenant's plan rate (`PLANS[plan].requestsPerSecond`, bursts of
 * twice that) and answers RATE_LIMITED (429) with `Retry-After` beyond it. Every API-key
 * response carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and
 * `RateLimit-Policy`. A key's requests also count against its tenant's shared bucket (at the same
 * rate), and console sessions get SESSION_REQUESTS_PER_SECOND each. Mount after authentication.
 * Per process: see `TokenBuckets`.
 *
 * @example
 * api.use(authenticateRequest);
 * api.use(rateLimitByKey()); // services.rateLimits
 */
export function rateLimitByKey(opts?: RateLimitOptions): MiddlewareHandler<AppEnv> {
  // Tests mount the middleware alone, with their own plans and buckets; the app uses its services' limiter.
  const own = opts ? keyRateLimiter(opts) : null;
  return createMiddleware<AppEnv>(async (c, next) => {
    const limit = own ?? c.get("services").rateLimits;
    const verdict = await limit(c.get("principal"), { db: c.get("services")?.db, logger: c.get("logger") });
    if (!verdict) return next();
    // Set before the handler runs: every response made through the context (`c.json`, `c.body`,
    // the error handler) carries them. Setting them afterwards costs a rebuild of the finished
    // response (stream and all), so that is done only for a handler's own `new Response`.
    const headers = Object.entries(rateLimitHeaders(verdict));
    for (const [name, value] of headers) c.header(name, value);
    if (!verdict.isAllowed) {
      const { body } = toHttpError(rateLimitError(verdict), c.get("requestId") ?? "unknown");
      return c.json(body, 429);
    }
    await next();
    if (!c.res.headers.has(headers[0]![0])) for (const [name, value] of headers) c.header(name, value);
  });
}
