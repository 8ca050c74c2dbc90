/** Tokens a bucket holds by default, as a multiple of its rate per second. */
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
 * protects instances from floods, it is not a billing boundary. Used by the control plane (keys,
 * tenants, sessions) and by instances (their tenant).
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

  /** Spends one token of `key`'s bucket (refilling at `rps`), if it has one. */
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

  /** Gives back a token taken from `key` (a request another limit then refused). */
  refund(key: string): void {
    const bucket = this.buckets.get(key);
    if (bucket) bucket.tokens += 1;
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
