import { AppError } from "@vdb/http/errors";
import { type TakeResult, TokenBuckets } from "@vdb/http/token-buckets";

export interface LoginThrottleOptions {
  /** Failed attempts one account (an email, known or not) may make per window. */
  perAccount: number;
  /** Failed attempts one client address may make per window, whatever the accounts. */
  perAddress: number;
  windowSeconds: number;
  now?: () => number;
}

/**
 * Slows password guessing: each failed login spends a token of its email's bucket and of its
 * client address's; an empty bucket refuses every attempt, right password or not, with
 * RATE_LIMITED and a Retry-After, until it refills (evenly over the window). Emails are bucketed
 * whether or not an account has them, so a refusal says nothing about which accounts exist.
 * Per process, like the API's rate limits.
 */
export class LoginThrottle {
  private readonly buckets: TokenBuckets;

  constructor(private readonly opts: LoginThrottleOptions) {
    this.buckets = new TokenBuckets({
      maxIdleMs: opts.windowSeconds * 1000,
      ...(opts.now ? { now: opts.now } : {}),
    });
  }

  /** Throws RATE_LIMITED when the account or the address has no attempt left. */
  check(email: string, address: string | null): void {
    for (const bucket of this.bucketsOf(email, address)) {
      const left = this.buckets.take(bucket.key, bucket.rps, { capacity: bucket.capacity, spend: false });
      if (!left.isAllowed) throw tooManyAttempts(left);
    }
  }

  recordFailure(email: string, address: string | null): void {
    for (const bucket of this.bucketsOf(email, address)) {
      this.buckets.take(bucket.key, bucket.rps, { capacity: bucket.capacity });
    }
  }

  private bucketsOf(email: string, address: string | null) {
    const { perAccount, perAddress, windowSeconds } = this.opts;
    return [
      { key: `account:${email.trim().toLowerCase()}`, capacity: perAccount, rps: perAccount / windowSeconds },
      { key: `address:${address ?? "unknown"}`, capacity: perAddress, rps: perAddress / windowSeconds },
    ];
  }
}

function tooManyAttempts(left: TakeResult): AppError {
  return new AppError({
    code: "RATE_LIMITED",
    message: `Too many failed logins; retry in ${left.retryAfterSeconds} s`,
    retryAfterSeconds: left.retryAfterSeconds,
  });
}
