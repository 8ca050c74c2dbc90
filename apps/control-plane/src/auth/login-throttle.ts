import { createHash } from "node:crypto";
import { AppError } from "@vdb/http/errors";
import { eq, inArray, lt, sql } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { loginFailures } from "../lib/db/schema";

export interface LoginThrottleOptions {
  /** Failed attempts one account (an email, known or not) may make per window. */
  perAccount: number;
  /** Failed attempts one client address may make per window, whatever the accounts. */
  perAddress: number;
  windowSeconds: number;
  now?: () => number;
}

interface Budget {
  /** sha256 of `account:<email>` or `address:<ip>`: what the store keeps. */
  keyHash: string;
  capacity: number;
  /** Failures forgiven per second: the budget refills evenly over the window. */
  perSecond: number;
}

/** How often a process deletes the rows of budgets that have refilled. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Slows password guessing: each failed login spends one attempt of its email's budget and of its
 * client address's; a spent budget refuses every attempt, right password or not, with
 * RATE_LIMITED and a Retry-After, until it refills (evenly over the window). Emails are budgeted
 * whether or not an account has them, so a refusal says nothing about which accounts exist.
 *
 * The budgets live in the store (`login_failures`, keyed by a hash of the email or address), not
 * in this process: every control plane on one database spends the same ones, and a restart
 * refills nothing. (The API's request rates, `TokenBuckets`, stay per process: they protect the
 * instances from floods, where this protects accounts from guessing.)
 */
export class LoginThrottle {
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(
    private readonly db: Database,
    private readonly opts: LoginThrottleOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Throws RATE_LIMITED when the account or the address has no attempt left. */
  async check(email: string, address: string | null): Promise<void> {
    const budgets = this.budgetsOf(email, address);
    const rows = await this.db
      .select()
      .from(loginFailures)
      .where(
        inArray(
          loginFailures.keyHash,
          budgets.map((budget) => budget.keyHash),
        ),
      );
    const now = this.now();
    for (const budget of budgets) {
      const row = rows.find((candidate) => candidate.keyHash === budget.keyHash);
      if (!row) continue;
      const elapsedSeconds = Math.max(0, now - row.updatedAt.getTime()) / 1000;
      const level = Math.max(0, row.level - elapsedSeconds * budget.perSecond);
      // An attempt is left while one more failure still fits in the budget.
      if (level + 1 > budget.capacity) {
        throw tooManyAttempts(Math.max(1, Math.ceil((level + 1 - budget.capacity) / budget.perSecond)));
      }
    }
  }

  /** Spends one attempt of the account's budget and of the address's. */
  async recordFailure(email: string, address: string | null): Promise<void> {
    const now = new Date(this.now());
    const at = now.toISOString();
    for (const budget of this.budgetsOf(email, address)) {
      // One statement: control planes recording failures of one budget at once each add theirs.
      const drained = sql`greatest(0, ${loginFailures.level} - greatest(0, extract(epoch from (${at}::timestamptz - ${loginFailures.updatedAt}))) * ${budget.perSecond})`;
      await this.db
        .insert(loginFailures)
        .values({ keyHash: budget.keyHash, level: 1, updatedAt: now })
        .onConflictDoUpdate({
          target: loginFailures.keyHash,
          set: { level: sql`least(${budget.capacity}, ${drained} + 1)`, updatedAt: now },
        });
    }
    await this.sweep(now);
  }

  /** Deletes budgets untouched for a window: they have refilled (at most once a minute). */
  private async sweep(now: Date): Promise<void> {
    if (now.getTime() - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now.getTime();
    const refilledBefore = new Date(now.getTime() - this.opts.windowSeconds * 1000);
    await this.db.delete(loginFailures).where(lt(loginFailures.updatedAt, refilledBefore));
  }

  private budgetsOf(email: string, address: string | null): Budget[] {
    const { perAccount, perAddress, windowSeconds } = this.opts;
    return [
      {
        keyHash: accountKeyHash(email),
        capacity: perAccount,
        perSecond: perAccount / windowSeconds,
      },
      {
        keyHash: hashKey(`address:${address ?? "unknown"}`),
        capacity: perAddress,
        perSecond: perAddress / windowSeconds,
      },
    ];
  }
}

const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");
const accountKeyHash = (email: string) => hashKey(`account:${email.trim().toLowerCase()}`);

/**
 * Refills an account's budget (its addresses' stay spent): a password reset by an operator is
 * the way back in for a user locked out by failures, theirs or a guesser's, and the new password
 * is one no guesser knows.
 */
export async function forgetAccountFailures(db: Database, email: string): Promise<void> {
  await db.delete(loginFailures).where(eq(loginFailures.keyHash, accountKeyHash(email)));
}

function tooManyAttempts(retryAfterSeconds: number): AppError {
  return new AppError({
    code: "RATE_LIMITED",
    message: `Too many failed logins; retry in ${retryAfterSeconds} s`,
    retryAfterSeconds,
  });
}
