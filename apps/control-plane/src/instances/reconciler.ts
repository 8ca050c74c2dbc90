import { EventEmitter } from "node:events";
import type { Instance } from "@vdb/schemas/instances";
import { PLANS } from "@vdb/schemas/plans";
import { eq, sql } from "drizzle-orm";
import type { Config } from "../config";
import { createLimiter, type Limiter } from "../lib/concurrency";
import type { Database, Store } from "../lib/db/client";
import { instances, tenants } from "../lib/db/schema";
import type { Logger } from "../lib/logger";
import { type InstanceHandle, type InstanceRuntime, RetryableRuntimeError } from "./runtime";
import { type InstanceRow, toInstance } from "./to-instance";

const MAX_BACKOFF_MS = 30_000;

/**
 * The parts of an instance's environment that only apply at start: when one differs from what
 * the running process was started with (a plan change moves MAX_DOCS; a new PUBLIC_URL moves the
 * token issuer), the instance is restarted with the new environment. LOG_LEVEL is left out: two
 * control planes with different log levels must not take turns restarting every instance.
 */
const RESTART_ON_CHANGE = [
  "PLAN",
  "MAX_DOCS",
  "MODEL_NAME",
  "DIMENSION",
  "JWKS_URL",
  "TOKEN_ISSUER",
] as const;

/** Which restart-worthy variables differ between what runs and what is wanted (none if unknown). */
export function envDrift(launched: Record<string, string> | null, wanted: Record<string, string>): string[] {
  if (!launched) return [];
  return RESTART_ON_CHANGE.filter((name) => launched[name] !== wanted[name]);
}

/** Events: `change` with the instance as it now is (state `deleted` once it is gone). */
export interface ReconcilerEvents {
  change: [Instance];
}

/**
 * Drives every instance from its desired state to its actual state, one sweep per interval.
 * All it knows lives in the store and in the runtime, so a restarted control plane carries on
 * where the last one stopped: live instances are re-adopted (never started twice) and processes
 * no row wants are stopped. With several control planes on one PostgreSQL, one leads.
 *
 * Each instance is worked on by itself, at most RECONCILE_CONCURRENCY at once: an instance whose
 * stop or start is slow is skipped by the sweeps that come meanwhile, and holds up no other.
 */
export class Reconciler extends EventEmitter<ReconcilerEvents> {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Work in progress, by tenant id: at most one piece per instance at any time. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly limit: Limiter;

  constructor(
    private readonly store: Store,
    private readonly runtime: InstanceRuntime,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    this.limit = createLimiter(config.RECONCILE_CONCURRENCY);
  }

  private get db(): Database {
    return this.store.db;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the loop (and waits for the work in progress); instances keep running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.settled();
  }

  /** Sweeps soon (after a user changed a desired state), not at the next interval. */
  nudge(): void {
    this.again = true;
    if (!this.running) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.loop(), delayMs);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    if (this.running) return;
    this.again = false;
    this.running = (async () => {
      try {
        if (await this.store.tryAcquireLeadership()) await this.sweep();
      } catch (error) {
        this.logger.error({ err: error }, "reconcile sweep failed; retrying");
      }
    })();
    await this.running;
    this.running = null;
    this.schedule(this.again ? 0 : this.config.RECONCILE_INTERVAL_MS);
  }

  /** One sweep, then all the work it (or an earlier one) started: for tests, and for stopping everything at exit. */
  async pass(): Promise<void> {
    await this.sweep();
    await this.settled();
  }

  private async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /**
   * Starts work on every instance that has none in progress, and on orphans: processes running
   * that no row wants (the tenant or its instance was deleted). Does not wait for that work.
   */
  private async sweep(): Promise<void> {
    // Taken before reading: an instance whose work ends while we read is left to the next
    // sweep, since what we read of it may predate what that work did.
    const busy = new Set(this.inFlight.keys());
    const rows = await this.db
      .select({ instance: instances, plan: tenants.plan })
      .from(instances)
      .innerJoin(tenants, eq(tenants.id, instances.tenantId));
    const live = await this.runtime.list();
    const wanted = new Set(rows.map((row) => row.instance.tenantId));
    for (const { instance, plan } of rows) {
      if (busy.has(instance.tenantId)) continue;
      const handles = live.filter((handle) => handle.tenantId === instance.tenantId);
      this.track(instance.tenantId, () => this.reconcile(instance, plan, handles));
    }
    for (const orphan of live) {
      if (wanted.has(orphan.tenantId) || busy.has(orphan.tenantId)) continue;
      this.track(orphan.tenantId, async () => {
        this.logger.warn({ tenantId: orphan.tenantId, ref: orphan.ref }, "stopping an orphaned instance");
        await this.runtime.stop(orphan);
        await this.runtime.destroyData(orphan.tenantId);
      });
    }
  }

  private track(tenantId: string, work: () => Promise<void>): void {
    if (this.inFlight.has(tenantId)) return;
    const done = this.limit(work)
      .catch((error: unknown) => {
        this.logger.error({ err: error, tenantId }, "reconciling an instance failed");
      })
      .finally(() => {
        this.inFlight.delete(tenantId);
        // A nudge while this instance was busy may have been for it.
        if (this.again && !this.running) this.schedule(0);
      });
    this.inFlight.set(tenantId, done);
  }

  private async reconcile(
    row: InstanceRow,
    plan: keyof typeof PLANS,
    live: (InstanceHandle & { tenantId: string })[],
  ): Promise<void> {
    // Re-adopt: prefer the recorded process; else one the runtime sees for this tenant. Twins go.
    let handle: InstanceHandle | null =
      live.find((candidate) => candidate.ref === row.handleRef) ?? live[0] ?? null;
    for (const twin of live) {
      if (twin !== handle) {
        this.logger.warn({ tenantId: row.tenantId, ref: twin.ref }, "stopping a duplicate instance");
        await this.runtime.stop(twin);
      }
    }
    if (!handle && row.handleRef) handle = { ref: row.handleRef, url: row.url }; // e.g. an ECS task list() missed
    if (handle && handle.ref !== row.handleRef) {
      this.logger.info({ tenantId: row.tenantId, ref: handle.ref }, "re-adopted a running instance");
      row = await this.update(row, { handleRef: handle.ref, url: handle.url });
    }

    if (row.desiredState === "deleted") {
      if (handle) await this.runtime.stop(handle);
      await this.runtime.destroyData(row.tenantId);
      await this.db.delete(instances).where(eq(instances.tenantId, row.tenantId));
      this.emit("change", {
        ...toInstance(row),
        state: "deleted",
        url: null,
        updatedAt: new Date().toISOString(),
      });
      return;
    }

    if (row.desiredState === "stopped") {
      if (handle) {
        row = await this.update(row, { state: "stopping" });
        await this.runtime.stop(handle);
      }
      if (row.state !== "stopped" || row.handleRef) {
        await this.update(row, {
          state: "stopped",
          handleRef: null,
          url: null,
          lastError: null,
          nextAttemptAt: null,
        });
      }
      return;
    }

    // desired: running
    const env = this.instanceEnv(row, plan);
    if (handle) {
      const observed = await this.runtime.observe(handle, row.tenantId);
      if (observed.state === "running") {
        const drift = envDrift(row.launchEnv, env);
        if (drift.length === 0) {
          if (row.state !== "running" || row.url !== observed.url || !row.launchEnv) {
            await this.update(row, {
              state: "running",
              url: observed.url,
              lastError: null,
              nextAttemptAt: null,
              // A row from before launch_env existed: what runs is taken to be what is wanted.
              ...(row.launchEnv ? {} : { launchEnv: env }),
            });
          }
          return;
        }
        // Its data stays (the data dir, or the EFS volume): the new process opens it again.
        this.logger.info(
          { tenantId: row.tenantId, changed: drift },
          "restarting an instance to apply a change",
        );
        row = await this.update(row, { state: "stopping" });
        await this.runtime.stop(handle);
        row = await this.update(row, { state: "pending", handleRef: null, url: null, nextAttemptAt: null });
        handle = null;
      } else if (observed.state === "starting") {
        const startedAt = row.state === "starting" ? row.stateChangedAt.getTime() : Date.now();
        if (Date.now() - startedAt > this.config.INSTANCE_START_TIMEOUT_MS) {
          await this.runtime.stop(handle);
          await this.fail(row, `not healthy ${this.config.INSTANCE_START_TIMEOUT_MS} ms after starting`);
        } else if (row.state !== "starting" || row.url !== observed.url) {
          await this.update(row, { state: "starting", url: observed.url });
        }
        return;
      } else {
        // It was running (or starting) and is gone: a crash. Restart with backoff.
        row = await this.fail(row, observed.reason ?? "the instance stopped");
      }
    }
    if (row.nextAttemptAt && row.nextAttemptAt.getTime() > Date.now()) return;
    try {
      const started = await this.runtime.start({ tenantId: row.tenantId, env });
      await this.update(row, {
        state: "starting",
        handleRef: started.ref,
        url: started.url,
        launchEnv: env,
        nextAttemptAt: null,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof RetryableRuntimeError) {
        await this.update(row, {
          state: "pending",
          lastError: message,
          nextAttemptAt: new Date(Date.now() + error.retryAfterMs),
        });
      } else {
        await this.fail(row, message);
      }
    }
  }

  /** Marks the instance failed and schedules the next start with exponential backoff. */
  private fail(row: InstanceRow, reason: string): Promise<InstanceRow> {
    const backoff = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** row.restartCount);
    this.logger.warn({ tenantId: row.tenantId, reason, retryInMs: backoff }, "instance failed");
    return this.update(row, {
      state: "failed",
      handleRef: null,
      url: null,
      lastError: reason,
      restartCount: row.restartCount + 1,
      nextAttemptAt: new Date(Date.now() + backoff),
    });
  }

  private async update(
    row: InstanceRow,
    changes: Partial<Omit<InstanceRow, "tenantId" | "desiredState">>,
  ): Promise<InstanceRow> {
    const stateChanged = changes.state !== undefined && changes.state !== row.state;
    const [updated] = await this.db
      .update(instances)
      .set({
        ...changes,
        updatedAt: sql`clock_timestamp()`,
        ...(stateChanged ? { stateChangedAt: sql`clock_timestamp()` } : {}),
      })
      .where(eq(instances.tenantId, row.tenantId))
      .returning();
    if (!updated) return row; // deleted meanwhile; the next pass sees it
    if (stateChanged) {
      this.logger.info({ tenantId: row.tenantId, from: row.state, to: updated.state }, "instance state");
    }
    this.emit("change", toInstance(updated));
    return updated;
  }

  /** The environment an instance reads (apps/instance/src/config.ts). */
  private instanceEnv(row: InstanceRow, plan: keyof typeof PLANS): Record<string, string> {
    const issuer = this.config.publicUrl;
    return {
      TENANT_ID: row.tenantId,
      PLAN: plan,
      MODEL_NAME: row.model,
      DIMENSION: String(row.dimension),
      MAX_DOCS: String(PLANS[plan].maxDocuments),
      JWKS_URL: `${issuer}/.well-known/jwks.json`,
      TOKEN_ISSUER: issuer,
      LOG_LEVEL: this.config.LOG_LEVEL === "silent" ? "warn" : this.config.LOG_LEVEL,
    };
  }
}
