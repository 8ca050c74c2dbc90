import { AppError, toHttpError } from "@vdb/http/errors";
import type { Principal } from "@vdb/schemas/auth";
import { PLANS, type Plan } from "@vdb/schemas/plans";
import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../http/env";
import type { Database } from "../lib/db/client";
import { tenants } from "../lib/db/schema";
import type { Logger } from "../lib/logger";

/** Tokens a key may spend at once, as a multiple of its plan's requests per second. */
export const BURST_SECONDS = 2;

export interface TakeResult {
  isAllowed: boolean;
  /** The bucket's capacity: `rps × BURST_SECONDS`. */
  limit: number;
  /** Whole tokens left after this take. */
  remaining: number;
  /** Seconds until the next token, when refused (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets by key, in this process's memory: each holds `rps × BURST_SECONDS` tokens and
 * refills at `rps` per second. Limits are per process: behind N control planes a key gets up to
 * N times its plan's rate (the load balancer spreads its requests). That is accepted: the limit
 * protects instances from floods, it is not a billing boundary.
 *
 * @example
 * const buckets = new TokenBuckets();
 * if (!buckets.take("key_…", 10).isAllowed) throw new AppError({ code: "RATE_LIMITED", message: "Slow down" });
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private lastSweep: number;

  constructor(opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.lastSweep = this.now();
  }

  take(key: string, rps: number): TakeResult {
    const now = this.now();
    const capacity = rps * BURST_SECONDS;
    const bucket = this.buckets.get(key) ?? { tokens: capacity, updatedAt: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (Math.max(0, now - bucket.updatedAt) / 1000) * rps);
    bucket.updatedAt = now;
    const isAllowed = bucket.tokens >= 1;
    if (isAllowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    this.sweep(now);
    return {
      isAllowed,
      limit: capacity,
      remaining: Math.floor(bucket.tokens),
      retryAfterSeconds: isAllowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / rps)),
      resetSeconds: Math.ceil((capacity - bucket.tokens) / rps),
    };
  }

  /** Buckets being tracked (idle keys are forgotten within a minute). */
  get size(): number {
    return this.buckets.size;
  }

  // A bucket untouched for longer than it takes to refill is full, the same as no bucket:
  // forget it, so keys seen once do not accumulate. Once a minute at most, so O(keys) is cheap.
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedAt > BURST_SECONDS * 1000) this.buckets.delete(key);
    }
  }
}

/** This process's buckets, shared by the middleware and `takeToken`. */
const processBuckets = new TokenBuckets();

/**
 * Spends one token of `keyId`'s bucket, for callers outside the REST middleware (tRPC, the
 * Chroma gateway, workers). Per process, like the middleware.
 *
 * @example
 * const taken = takeToken(principal.keyId, PLANS[plan].requestsPerSecond);
 * if (!taken.isAllowed) throw new AppError({ code: "RATE_LIMITED", message: `Retry in ${taken.retryAfterSeconds} s` });
 */
export function takeToken(keyId: string, rps: number): TakeResult {
  return processBuckets.take(keyId, rps);
}

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
  /** Default: this process's buckets, shared with `takeToken`. */
  buckets?: TokenBuckets;
  now?: () => number;
}

export interface RateLimitVerdict extends TakeResult {
  plan: Plan;
  rps: number;
}

/** Who is limited, and how: null for callers that are not API keys (console sessions, anonymous). */
export type KeyRateLimiter = (
  principal: Principal | null,
  store: { db?: Database; logger?: Logger },
) => Promise<RateLimitVerdict | null>;

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
  const buckets = opts.buckets ?? processBuckets;
  const now = opts.now ?? Date.now;
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

  return async (principal, store) => {
    if (principal?.kind !== "apiKey") return null;
    const plan = await planOf(principal.tenantId, store);
    if (!plan) return null;
    const rps = PLANS[plan].requestsPerSecond;
    return { ...buckets.take(principal.keyId, rps), plan, rps };
  };
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
  return new AppError({
    code: "RATE_LIMITED",
    message: `This key may make ${verdict.rps} requests per second (${verdict.plan} plan, bursts of ${verdict.limit}); retry in ${verdict.retryAfterSeconds} s`,
  });
}

/**
 * Limits each API key to its tenant's plan rate (`PLANS[plan].requestsPerSecond`, bursts of
 * twice that) and answers RATE_LIMITED (429) with `Retry-After` beyond it. Every API-key
 * response carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and
 * `RateLimit-Policy`. Console sessions are not limited. Mount after authentication.
 * Per process: see `TokenBuckets`.
 *
 * @example
 * api.use(authenticateRequest);
 * api.use(rateLimitByKey({ planOf: planFromStore(services.db) }));
 */
export function rateLimitByKey(opts: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  const limit = keyRateLimiter(opts);
  return createMiddleware<AppEnv>(async (c, next) => {
    // `services` is unset only in tests that mount the middleware alone (with a `planOf`).
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
