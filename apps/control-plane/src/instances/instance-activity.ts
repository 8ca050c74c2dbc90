import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { instances } from "../lib/db/schema";
import type { Logger } from "../lib/logger";

/** How often activity is written to the store: well under any sensible idle time. */
const FLUSH_INTERVAL_MS = 5_000;

/**
 * Each tenant's last data-plane activity, as this process saw it: touched in memory on every
 * call that reaches an instance (no store write on the hot path), written to
 * `instances.last_active_at` every few seconds, so the reconciler — in this process or another —
 * and the next control plane after a restart know it too. Also counts the calls in flight, so an
 * instance answering one is never put to sleep under it.
 */
export class InstanceActivity {
  private readonly lastActive = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  private readonly unflushed = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** The tenant's instance is being used now. */
  touch(tenantId: string): void {
    this.lastActive.set(tenantId, this.now());
    this.unflushed.add(tenantId);
  }

  /**
   * Marks a call to the tenant's instance in flight until the returned function is called
   * (activity at both ends: a long call keeps it awake for its whole length).
   */
  begin(tenantId: string): () => void {
    this.touch(tenantId);
    this.inFlight.set(tenantId, (this.inFlight.get(tenantId) ?? 0) + 1);
    let isDone = false;
    return () => {
      if (isDone) return;
      isDone = true;
      const left = (this.inFlight.get(tenantId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(tenantId, left);
      else this.inFlight.delete(tenantId);
      this.touch(tenantId);
    };
  }

  /** When this process last saw the tenant's instance used (ms), or null. */
  lastActiveAt(tenantId: string): number | null {
    return this.lastActive.get(tenantId) ?? null;
  }

  /** Whether a call to the tenant's instance is in flight in this process. */
  isBusy(tenantId: string): boolean {
    return (this.inFlight.get(tenantId) ?? 0) > 0;
  }

  /** Writes the activity seen since the last flush (never moving a stored time backwards). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const work = async () => {
      const tenantIds = [...this.unflushed];
      this.unflushed.clear();
      for (const tenantId of tenantIds) {
        const at = new Date(this.lastActive.get(tenantId) ?? this.now());
        try {
          await this.db
            .update(instances)
            .set({ lastActiveAt: at })
            .where(
              and(
                eq(instances.tenantId, tenantId),
                or(isNull(instances.lastActiveAt), lt(instances.lastActiveAt, at)),
              ),
            );
        } catch (error) {
          this.unflushed.add(tenantId); // the next flush tries again
          this.logger.warn({ err: error, tenantId }, "could not record instance activity");
        }
      }
    };
    this.flushing = work().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }
}
