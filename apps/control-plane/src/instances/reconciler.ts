import { EventEmitter } from "node:events";
import type { Instance } from "@vdb/schemas/instances";
import { PLANS } from "@vdb/schemas/plans";
import { and, eq, inArray, isNotNull, sql } from "drizzle-orm";
import pLimit, { type LimitFunction } from "p-limit";
import type { Config } from "../config";
import type { Database, Store } from "../lib/db/client";
import { instances, jobs, tenants } from "../lib/db/schema";
import type { Logger } from "../lib/logger";
import type { InstanceActivity } from "./instance-activity";
import { Liveness } from "./liveness";
import { identityEnvName, SHARED_PLAN } from "./pools";
import {
  type InstanceHandle,
  type InstanceRuntime,
  type ObservedState,
  RetryableRuntimeError,
} from "./runtime";
import { type InstanceRow, toInstance } from "./to-instance";

const MAX_BACKOFF_MS = 30_000;
/** How soon a starting instance is probed again: it serves as soon as it answers, not a sweep later. */
const STARTING_PROBE_MS = 100;
/** Health probes in flight at once: cheap, and apart from the starts and stops RECONCILE_CONCURRENCY bounds. */
const PROBE_CONCURRENCY = 64;

/**
 * Wait before restarting a crashed instance: none for a first crash, then 1 s, 2 s, 4 s… up to
 * 30 s for repeated ones (restartCount counts crashes since the last healthy period).
 */
export function crashBackoffMs(restartCount: number): number {
  return restartCount === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (restartCount - 1));
}

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

/** What one health probe of a running or starting instance found. */
export interface ProbeResult {
  tenantId: string;
  /** `answered`: healthy; `missed`: no healthy answer; `stalled`: held up by this process, ignored. */
  outcome: "answered" | "missed" | "stalled";
  /** Probes missed in a row (0 once one is answered). */
  missed: number;
}

/**
 * Events: `change` with the instance as it now is (state `deleted` once it is gone); `probe`
 * after each health probe of a live instance.
 */
export interface ReconcilerEvents {
  change: [Instance];
  probe: [ProbeResult];
}

export interface ReconcilerOptions {
  /** The clock decisions are made by (backoff, start timeout, healthy period); tests move it. */
  now?: () => number;
  /** This process's record of data-plane activity, beside the store's (what idle instances sleep by). */
  activity?: InstanceActivity;
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
  /** Starts and stops: the heavy part of reconciling. */
  private readonly limit: LimitFunction;
  private readonly probeLimit: LimitFunction = pLimit(PROBE_CONCURRENCY);
  private readonly liveness: Liveness;
  private readonly now: () => number;
  private readonly activity: InstanceActivity | null;
  /** When this reconciler began: a restarted control plane gives every instance a full idle period. */
  private readonly startedAt: number;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly runtime: InstanceRuntime,
    private readonly config: Config,
    private readonly logger: Logger,
    opts: ReconcilerOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.limit = pLimit(config.RECONCILE_CONCURRENCY);
    this.now = opts.now ?? Date.now;
    this.activity = opts.activity ?? null;
    this.startedAt = this.now();
    this.liveness = new Liveness({
      failures: config.INSTANCE_LIVENESS_FAILURES,
      timeoutMs: config.INSTANCE_LIVENESS_TIMEOUT_MS,
    });
    // A crashed process is handled now, not at the next sweep.
    runtime.onExit?.(() => {
      if (!this.stopped) this.nudge();
    });
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
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await this.running;
    await this.settled();
  }

  /**
   * Stops every instance the runtime runs, as the platform stops (Ctrl-C; call `stop` first). An
   * instance that is to run is left `pending`, with no process: the next control plane starts it
   * again as a start, not as a crash (no `failed`, no restart counted towards its backoff).
   */
  async stopAll(): Promise<void> {
    const live = await this.runtime.list();
    await Promise.all(live.map((handle) => this.limit(() => this.runtime.stop(handle))));
    if (live.length === 0) return;
    const rows = await this.db
      .select()
      .from(instances)
      .where(
        and(
          inArray(
            instances.handleRef,
            live.map((handle) => handle.ref),
          ),
          eq(instances.desiredState, "running"),
        ),
      );
    for (const row of rows) {
      await this.update(row, { state: "pending", handleRef: null, url: null, nextAttemptAt: null });
    }
  }

  /** Sweeps soon (after a user changed a desired state), not at the next interval. */
  nudge(): void {
    this.again = true;
    if (!this.running) this.schedule(0);
  }

  /** Sweeps again in `delayMs` (a starting instance to probe, a backoff ending), unless one comes sooner. */
  private wakeIn(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.stopped || (this.wakeTimer && this.wakeAt <= at)) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.nudge();
    }, delayMs);
    this.wakeTimer.unref();
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
    const joined = await this.db
      .select({ instance: instances, plan: tenants.plan })
      .from(instances)
      .leftJoin(tenants, eq(tenants.id, instances.tenantId));
    // A pool is no tenant's: it runs on the shared tier's plan. A dedicated row whose tenant is
    // gone (deleted without its row, which delete-tenant removes) is deleted like an instance.
    const rows = joined.map(({ instance, plan }) =>
      plan
        ? { instance, plan }
        : instance.kind === "pool"
          ? { instance, plan: SHARED_PLAN }
          : { instance: { ...instance, desiredState: "deleted" as const }, plan: SHARED_PLAN },
    );
    const live = await this.runtime.list();
    const wanted = new Set(rows.map((row) => row.instance.tenantId));
    const withJobs = await this.tenantsWithJobs(rows);
    for (const { instance, plan } of rows) {
      if (busy.has(instance.tenantId)) continue;
      const handles = live.filter((handle) => handle.tenantId === instance.tenantId);
      const hasJobs = withJobs.has(instance.tenantId);
      this.track(instance.tenantId, () => this.reconcile(instance, plan, handles, hasJobs));
    }
    for (const orphan of live) {
      if (wanted.has(orphan.tenantId) || busy.has(orphan.tenantId)) continue;
      this.track(orphan.tenantId, () =>
        this.limit(async () => {
          this.logger.warn({ tenantId: orphan.tenantId, ref: orphan.ref }, "stopping an orphaned instance");
          await this.runtime.stop(orphan);
          await this.runtime.destroyData(orphan.tenantId);
        }),
      );
    }
  }

  /**
   * Of the tenants whose instance sleeps or may be put to sleep, those with ingestion queued or
   * under way: their jobs need the instance, so it is woken (or kept awake) for them.
   */
  private async tenantsWithJobs(
    rows: { instance: InstanceRow; plan: keyof typeof PLANS }[],
  ): Promise<Set<string>> {
    const candidates = rows
      .filter(
        ({ instance, plan }) =>
          instance.desiredState === "running" &&
          (instance.state === "sleeping" || (instance.state === "running" && this.isIdle(instance, plan))),
      )
      .map(({ instance }) => instance.tenantId);
    if (candidates.length === 0) return new Set();
    const found = await this.db
      .selectDistinct({ tenantId: jobs.tenantId })
      .from(jobs)
      .where(
        and(
          inArray(jobs.status, ["queued", "running"]),
          isNotNull(jobs.tenantId),
          inArray(jobs.tenantId, candidates),
        ),
      );
    return new Set(found.map((row) => row.tenantId as string));
  }

  /** How long an instance may go unused before it sleeps (0: never). */
  private sleepAfterMs(plan: keyof typeof PLANS): number {
    return this.config.INSTANCE_SLEEP_AFTER_IDLE_MS ?? PLANS[plan].sleepAfterIdleMs;
  }

  /**
   * Whether a running instance has gone unused for its plan's idle time: no data-plane call
   * recorded (by this process or, through the store, another) since then, none in flight here,
   * and it has been running (and this reconciler watching) at least that long.
   */
  private isIdle(row: InstanceRow, plan: keyof typeof PLANS): boolean {
    if (row.kind === "pool") return false; // its tenants' requests are not counted on it; it serves many
    const idleMs = this.sleepAfterMs(plan);
    if (idleMs <= 0 || this.activity?.isBusy(row.tenantId)) return false;
    const lastUsed = Math.max(
      row.lastActiveAt?.getTime() ?? 0,
      this.activity?.lastActiveAt(row.tenantId) ?? 0,
      row.stateChangedAt.getTime(),
      this.startedAt,
    );
    return this.now() - lastUsed >= idleMs;
  }

  /**
   * Wakes a sleeping instance (the first data-plane request for it, or a launch): `waking` until
   * it answers, then `running`. Only one caller wins the change; the others wait on the same
   * start. False when it was not sleeping.
   */
  async wake(tenantId: string): Promise<boolean> {
    const [row] = await this.db
      .update(instances)
      .set({ state: "waking", updatedAt: sql`clock_timestamp()`, stateChangedAt: sql`clock_timestamp()` })
      .where(
        and(
          eq(instances.tenantId, tenantId),
          eq(instances.state, "sleeping"),
          eq(instances.desiredState, "running"),
        ),
      )
      .returning();
    if (!row) return false;
    this.logger.info({ tenantId, from: "sleeping", to: "waking" }, "instance state");
    this.emit("change", toInstance(row));
    this.nudge();
    return true;
  }

  private track(tenantId: string, work: () => Promise<void>): void {
    if (this.inFlight.has(tenantId)) return;
    const done = work()
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
    hasJobs: boolean,
  ): Promise<void> {
    // Re-adopt: prefer the recorded process; else one the runtime sees for this tenant. Twins go.
    let handle: InstanceHandle | null =
      live.find((candidate) => candidate.ref === row.handleRef) ?? live[0] ?? null;
    for (const twin of live) {
      if (twin !== handle) {
        this.logger.warn({ tenantId: row.tenantId, ref: twin.ref }, "stopping a duplicate instance");
        await this.limit(() => this.runtime.stop(twin));
      }
    }
    if (!handle && row.handleRef) handle = { ref: row.handleRef, url: row.url }; // e.g. an ECS task list() missed
    if (handle && handle.ref !== row.handleRef) {
      this.logger.info({ tenantId: row.tenantId, ref: handle.ref }, "re-adopted a running instance");
      row = await this.update(row, { handleRef: handle.ref, url: handle.url });
    }

    if (row.desiredState !== "running") this.liveness.forget(row.tenantId);
    if (row.desiredState === "deleted") {
      const live = handle;
      await this.limit(async () => {
        if (live) await this.runtime.stop(live);
        await this.runtime.destroyData(row.tenantId);
      });
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
        const live = handle;
        row = await this.update(row, { state: "stopping" });
        await this.limit(() => this.runtime.stop(live));
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
    if (row.state === "sleeping") {
      if (handle) {
        // A sleep cut short (the control plane stopped mid-way): finish it.
        const live = handle;
        await this.limit(() => this.runtime.stop(live));
        row = await this.update(row, { handleRef: null, url: null });
      }
      if (hasJobs) await this.wake(row.tenantId);
      return;
    }
    const env = this.instanceEnv(row, plan);
    if (handle) {
      const live = handle;
      const sentAt = this.now();
      const observed = await this.probeLimit(() => this.runtime.observe(live, row.tenantId));
      if (observed.state === "running") {
        this.probed(row.tenantId, "answered", sentAt);
        const drift = envDrift(row.launchEnv, env);
        if (drift.length === 0) {
          if (row.state === "running" && !hasJobs && this.isIdle(row, plan)) {
            await this.sleep(row, live);
            return;
          }
          await this.keepRunning(row, observed.url, env);
          return;
        }
        // Its data stays (the data dir, or the EFS volume): the new process opens it again.
        this.logger.info(
          { tenantId: row.tenantId, changed: drift },
          "restarting an instance to apply a change",
        );
        row = await this.update(row, { state: "stopping" });
        await this.limit(() => this.runtime.stop(live));
        this.liveness.forget(row.tenantId);
        row = await this.update(row, { state: "pending", handleRef: null, url: null, nextAttemptAt: null });
        handle = null;
      } else if (
        (observed.state === "starting" || observed.state === "unresponsive") &&
        row.state === "running"
      ) {
        // Busy is not dead: it stays running (and keeps its traffic) until liveness gives up on it.
        const dead = this.judgeUnanswered(row, observed, sentAt);
        if (!dead) return;
        this.logger.warn({ tenantId: row.tenantId, reason: dead }, "instance hung; restarting it");
        await this.limit(() => this.runtime.stop(live, { force: true }));
        row = await this.fail(row, dead);
      } else if (observed.state === "starting" || observed.state === "unresponsive") {
        const isStarting = row.state === "starting" || row.state === "waking";
        const startedAt = isStarting ? row.stateChangedAt.getTime() : this.now();
        if (this.now() - startedAt > this.config.INSTANCE_START_TIMEOUT_MS) {
          await this.limit(() => this.runtime.stop(live, { force: true }));
          await this.fail(row, `not healthy ${this.config.INSTANCE_START_TIMEOUT_MS} ms after starting`);
        } else if (!isStarting || row.url !== observed.url) {
          await this.update(row, { state: isStarting ? row.state : "starting", url: observed.url });
        }
        this.wakeIn(STARTING_PROBE_MS);
        return;
      } else {
        // It was running (or starting) and is gone: a crash. Restart (at once if it is the first).
        row = await this.fail(row, observed.reason ?? "the instance stopped");
      }
    }
    const waitMs = row.nextAttemptAt ? row.nextAttemptAt.getTime() - this.now() : 0;
    if (waitMs > 0) {
      this.wakeIn(waitMs);
      return;
    }
    this.liveness.forget(row.tenantId);
    try {
      const started = await this.limit(() => this.runtime.start({ tenantId: row.tenantId, env }));
      await this.update(row, {
        // A woken instance reads `waking` until it answers, so its waiting callers can tell.
        state: row.state === "waking" ? "waking" : "starting",
        handleRef: started.ref,
        url: started.url,
        launchEnv: env,
        nextAttemptAt: null,
      });
      this.wakeIn(STARTING_PROBE_MS);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof RetryableRuntimeError) {
        await this.update(row, {
          state: "pending",
          lastError: message,
          nextAttemptAt: new Date(this.now() + error.retryAfterMs),
        });
        this.wakeIn(error.retryAfterMs);
      } else {
        await this.fail(row, message);
      }
    }
  }

  /**
   * A healthy instance: recorded as running, and once it has run healthy for
   * INSTANCE_HEALTHY_RESET_MS its crash count (and so its backoff) starts again from zero.
   */
  private async keepRunning(row: InstanceRow, url: string, env: Record<string, string>): Promise<void> {
    const changes: Partial<InstanceRow> = {};
    if (row.state !== "running" || row.url !== url || !row.launchEnv) {
      Object.assign(changes, { state: "running", url, lastError: null, nextAttemptAt: null });
      // A row from before launch_env existed: what runs is taken to be what is wanted.
      if (!row.launchEnv) changes.launchEnv = env;
    }
    const healthyForMs = row.state === "running" ? this.now() - row.stateChangedAt.getTime() : 0;
    if (row.restartCount > 0 && healthyForMs >= this.config.INSTANCE_HEALTHY_RESET_MS) {
      this.logger.info({ tenantId: row.tenantId, healthyForMs }, "instance healthy again: crash count reset");
      changes.restartCount = 0;
    }
    if (Object.keys(changes).length > 0) await this.update(row, changes);
  }

  /** A running instance missed a probe: the reason to restart it if it is to be taken for dead, else null. */
  private judgeUnanswered(row: InstanceRow, observed: ObservedState, sentAt: number): string | null {
    if (observed.state === "unresponsive" && observed.stalled) {
      this.probed(row.tenantId, "stalled", sentAt);
      return null;
    }
    const verdict = this.liveness.missed(row.tenantId, sentAt);
    this.emit("probe", { tenantId: row.tenantId, outcome: "missed", missed: verdict.missed });
    const reason = observed.state === "unresponsive" ? observed.reason : "not healthy";
    if (!verdict.dead) {
      this.logger.debug({ tenantId: row.tenantId, reason, missed: verdict.missed }, "instance busy");
      return null;
    }
    return `${reason}; ${verdict.missed} health checks missed over ${Math.round(verdict.silentForMs / 1000)} s`;
  }

  private probed(tenantId: string, outcome: "answered" | "stalled", sentAt: number): void {
    if (outcome === "answered") this.liveness.answered(tenantId, sentAt);
    this.emit("probe", { tenantId, outcome, missed: 0 });
  }

  /** Puts an idle instance to sleep: stopped, its data kept, `sleeping` until a request wakes it. */
  private async sleep(row: InstanceRow, live: InstanceHandle): Promise<void> {
    this.logger.info({ tenantId: row.tenantId }, "instance idle: putting it to sleep");
    this.liveness.forget(row.tenantId);
    // Recorded first, so requests from now on wake it rather than reach a process that is going.
    row = await this.update(row, { state: "sleeping", lastError: null, nextAttemptAt: null });
    await this.limit(() => this.runtime.stop(live));
    await this.update(row, { handleRef: null, url: null });
  }

  /** Marks the instance failed and schedules the next start with exponential backoff. */
  private fail(row: InstanceRow, reason: string): Promise<InstanceRow> {
    const backoff = crashBackoffMs(row.restartCount);
    this.liveness.forget(row.tenantId);
    this.logger.warn({ tenantId: row.tenantId, reason, retryInMs: backoff }, "instance failed");
    return this.update(row, {
      state: "failed",
      handleRef: null,
      url: null,
      lastError: reason,
      restartCount: row.restartCount + 1,
      nextAttemptAt: new Date(this.now() + backoff),
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
      [identityEnvName(row.tenantId)]: row.tenantId,
      PLAN: plan,
      MODEL_NAME: row.model,
      DIMENSION: String(row.dimension),
      MAX_DOCS: String(PLANS[plan].maxRecords),
      JWKS_URL: `${issuer}/.well-known/jwks.json`,
      TOKEN_ISSUER: issuer,
      LOG_LEVEL: this.config.LOG_LEVEL === "silent" ? "warn" : this.config.LOG_LEVEL,
    };
  }
}
