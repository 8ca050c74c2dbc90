import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { AppError } from "@vdb/http/errors";
import { newId } from "@vdb/schemas/ids";
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import { olderThanCursor, toPage } from "../lib/cursor";
import type { Database } from "../lib/db/client";
import { jobs } from "../lib/db/schema";
import type { Logger } from "../lib/logger";
import { EnqueueJobInput, isTerminalJobStatus, type JobSnapshot, ListJobsInput } from "./schemas";
import { type JobRow, toJobSnapshot } from "./to-job-snapshot";

/** Thrown by a handler when trying again cannot help (e.g. an unparseable file): the job fails at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermanentJobError";
  }
}

/**
 * Thrown by a handler when the job cannot run now for a reason outside the job itself (the
 * service it needs is down): it goes back to the queue after `retryInMs` and the attempt is not
 * counted, so an outage never uses up a job's attempts.
 */
export class JobDeferredError extends Error {
  readonly retryInMs: number;

  constructor(message: string, options: ErrorOptions & { retryInMs?: number } = {}) {
    super(message, options);
    this.name = "JobDeferredError";
    this.retryInMs = options.retryInMs ?? 1_000;
  }
}

/** The reason a handler's `signal` aborts: this worker no longer owns the job. */
export class JobAbortedError extends Error {
  constructor(readonly reason: "lease-lost" | "shutdown") {
    super(
      reason === "lease-lost"
        ? "the job's lease was lost (it lapsed and another worker took the job, or its row changed)"
        : "the worker is shutting down; the job goes back to the queue",
    );
    this.name = "JobAbortedError";
  }
}

export interface JobContext {
  /** Aborts when this worker loses the job (lease lost, shutdown): stop and throw. */
  signal: AbortSignal;
  /** Records progress; throttled writes, but the latest value is always stored. */
  reportProgress(done: number, total: number): Promise<void>;
}

/**
 * Runs one attempt of a job. Resolving means success; throwing means retry later (or, with
 * `PermanentJobError`, fail now; with `JobDeferredError`, try again later without counting it). Attempts may repeat after a crash, so handlers must be idempotent.
 */
export type JobHandler = (job: JobSnapshot, ctx: JobContext) => Promise<void>;

/** `progress`: a job changed but is not finished (claimed, progress reported, retry scheduled). */
export interface JobQueueEvents {
  progress: [JobSnapshot];
  finished: [JobSnapshot];
}

export interface JobQueueOptions {
  db: Database;
  logger: Logger;
  /** Names this worker in `locked_by`; unique per queue by default. */
  workerId?: string;
  /** How long a claim holds a job without a heartbeat (default 30 s). */
  leaseMs?: number;
  /** How often a running job's lease is renewed (default leaseMs / 3). */
  heartbeatMs?: number;
  /** How often to look for due jobs, and how often `watch` polls for other processes' changes (default 1 s). */
  pollMs?: number;
  /** Delay before retrying after failed attempt number `attempt` (1-based). */
  backoff?: (attempt: number) => number;
  /**
   * A condition on the `jobs` row that must hold for a job to be claimed (e.g. its tenant's
   * instance is running). Jobs that fail it wait in the queue, untouched and uncounted, and are
   * claimed at the first poll after it holds.
   */
  claimableWhen?: SQL;
}

/**
 * Exponential backoff with "equal jitter": attempt n waits between half and all of
 * min(maxMs, baseMs · 2^(n-1)), so retries of jobs that failed together spread out.
 *
 * @example
 * exponentialBackoff({ baseMs: 1_000, maxMs: 60_000 })(3); // 2000–4000
 */
export function exponentialBackoff({ baseMs = 1_000, maxMs = 5 * 60_000 } = {}): (attempt: number) => number {
  return (attempt) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  };
}

const PROGRESS_WRITE_MS = 250;
const MAX_ERROR_LENGTH = 2_000;

interface ActiveRun {
  /** The row as this worker last wrote it; `attempts` is the fencing token of this claim. */
  row: JobRow;
  controller: AbortController;
  progress: { done: number; total: number };
  isProgressDirty: boolean;
  lastProgressWriteAt: number;
  progressTimer: NodeJS.Timeout | null;
  heartbeat: NodeJS.Timeout | null;
  /** Writes for one run go one at a time, so a late heartbeat never races the outcome. */
  writes: Promise<unknown>;
  /** Set once this worker must no longer record anything for the job. */
  abandoned: JobAbortedError["reason"] | null;
  settled: Promise<void>;
}

/** `now() + ms` in the database's clock, so workers on different machines agree on leases. */
function fromNow(ms: number): SQL {
  return sql`now() + ${`${Math.max(0, Math.round(ms))} milliseconds`}::interval`;
}

/** How many jobs of the job's tenant are running now (its share of the workers). */
const TENANT_RUNNING = sql`(select count(*) from ${jobs} as peer where peer.tenant_id = ${jobs.tenantId} and peer.status = 'running')`;
/** When a job of the job's tenant was last claimed (null: never), so turns go round. */
const TENANT_LAST_CLAIMED = sql`(select max(peer.claimed_at) from ${jobs} as peer where peer.tenant_id = ${jobs.tenantId})`;

/** Why a `running` job whose lease lapsed is being taken over or dead-lettered. */
const LEASE_LAPSED = sql`'attempt ' || ${jobs.attempts} || ': its worker (' || coalesce(${jobs.lockedBy}, 'unknown') || ') stopped renewing the lease'`;

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message;
}

/**
 * A durable job queue on the `jobs` table, safe with any number of workers in any number of
 * processes on one PostgreSQL (or on PGlite, in one process). A worker claims a job with a
 * lease it renews while the handler runs; a worker that dies lets the lease lapse and another
 * takes the job over. Failed attempts back off and retry up to `maxAttempts`, then the job is
 * `dead` with its last error. Deferred attempts and jobs held back by `claimableWhen` are not
 * failures and count for nothing.
 *
 * @example
 * const queue = new JobQueue({ db, logger });
 * queue.register("ingest", async (job, { signal, reportProgress }) => { … });
 * queue.start(2);
 * const job = await queue.enqueue({ kind: "ingest", tenantId, payload: { documentId } });
 */
export class JobQueue extends EventEmitter<JobQueueEvents> {
  readonly workerId: string;
  private readonly db: Database;
  private readonly logger: Logger;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly backoff: (attempt: number) => number;
  private readonly claimableWhen: SQL | undefined;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly active = new Map<string, ActiveRun>();
  private concurrency = 1;
  private isStarted = false;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private lastReapAt = 0;

  constructor(opts: JobQueueOptions) {
    super();
    this.setMaxListeners(0);
    this.db = opts.db;
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.logger = opts.logger.child({ component: "jobs", workerId: this.workerId });
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.heartbeatMs = opts.heartbeatMs ?? Math.max(1, Math.floor(this.leaseMs / 3));
    this.pollMs = opts.pollMs ?? 1_000;
    this.backoff = opts.backoff ?? exponentialBackoff();
    this.claimableWhen = opts.claimableWhen;
  }

  /**
   * Adds a job. Pass a transaction as `db` to enqueue atomically with the caller's own writes
   * (the job exists only if it commits; this process then finds it by its next poll, or at once
   * after `nudge()`).
   */
  async enqueue(input: EnqueueJobInput, db: Database = this.db): Promise<JobSnapshot> {
    const data = EnqueueJobInput.parse(input);
    const [row] = await db
      .insert(jobs)
      .values({
        id: newId("job"),
        tenantId: data.tenantId ?? null,
        kind: data.kind,
        payload: data.payload,
        status: "queued",
        maxAttempts: data.maxAttempts,
        ...(data.runAfter ? { runAfter: data.runAfter } : {}),
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    if (db === this.db) this.nudge();
    return toJobSnapshot(row);
  }

  /** Sets the handler for a kind; this worker claims only kinds it has handlers for. */
  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
    this.nudge();
  }

  /** Starts claiming jobs, running at most `concurrency` at once. */
  start(concurrency = 1): void {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error("concurrency must be a positive integer");
    this.concurrency = concurrency;
    this.isStarted = true;
    this.schedule(0);
  }

  /**
   * Stops claiming and waits up to `timeoutMs` for running handlers. Handlers still running then
   * are aborted and their jobs put back in the queue at once (the attempt is not counted), so
   * another worker resumes them without waiting for the lease to lapse.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.isStarted = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    const runs = [...this.active.values()];
    if (runs.length === 0) return;
    let timeout: NodeJS.Timeout | undefined;
    const isTimedOut = await Promise.race([
      Promise.allSettled(runs.map((run) => run.settled)).then(() => false),
      new Promise<boolean>((resolve) => {
        timeout = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timeout);
    if (isTimedOut) await Promise.all([...this.active.values()].map((run) => this.release(run)));
  }

  /** Looks for due jobs now rather than at the next poll. */
  nudge(): void {
    if (!this.isStarted) return;
    if (this.ticking) this.again = true;
    else this.schedule(0);
  }

  async get(id: string): Promise<JobSnapshot | null> {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
    return row ? toJobSnapshot(row) : null;
  }

  /** Jobs newest first, optionally of one tenant, status or kind. */
  async list(input: ListJobsInput = {}): Promise<{ items: JobSnapshot[]; nextCursor: string | null }> {
    const { tenantId, status, kind, limit, cursor } = ListJobsInput.parse(input);
    const older = olderThanCursor(cursor, { createdAt: jobs.createdAt, id: jobs.id });
    const filters: SQL[] = [];
    if (tenantId) filters.push(eq(jobs.tenantId, tenantId));
    if (status) filters.push(eq(jobs.status, status));
    if (kind) filters.push(eq(jobs.kind, kind));
    if (older) filters.push(older);
    const rows = await this.db
      .select()
      .from(jobs)
      .where(and(...filters))
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(limit + 1);
    return toPage(rows, limit, toJobSnapshot);
  }

  /** Puts a `dead` or `failed` job back in the queue with its attempts reset. */
  async retry(id: string): Promise<JobSnapshot> {
    const [row] = await this.db
      .update(jobs)
      .set({
        status: "queued",
        attempts: 0,
        runAfter: sql`now()`,
        lockedBy: null,
        lockedUntil: null,
        progressDone: 0,
        progressTotal: 0,
        lastError: null,
        finishedAt: null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(jobs.id, id), inArray(jobs.status, ["dead", "failed"])))
      .returning();
    if (!row) throw await this.notAllowed(id, "retried", "only failed or dead jobs can be retried");
    const job = toJobSnapshot(row);
    this.publish("progress", job);
    this.nudge();
    return job;
  }

  private schedule(delayMs: number): void {
    if (!this.isStarted) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = (async () => {
      try {
        if (Date.now() - this.lastReapAt >= this.leaseMs) {
          this.lastReapAt = Date.now();
          await this.deadLetterAbandoned();
        }
        const kinds = [...this.handlers.keys()];
        while (this.isStarted && kinds.length > 0 && this.active.size < this.concurrency) {
          const row = await this.claim(kinds);
          if (!row) break;
          this.begin(row);
        }
      } catch (error) {
        this.logger.error({ err: error }, "claiming jobs failed; retrying");
      }
    })();
    await this.ticking;
    this.ticking = null;
    const delay = this.again ? 0 : this.pollMs;
    this.again = false;
    this.schedule(delay);
  }

  /**
   * Atomically takes a due job: queued, or running with a lapsed lease (its worker died). Fair
   * across tenants: the tenant with the fewest jobs running goes first, then the one served
   * least recently (last claim), then the oldest due job; so one tenant's backlog never makes
   * another's document wait behind all of it, whatever the concurrency. `FOR UPDATE SKIP
   * LOCKED` lets concurrent claimers pass over each other's rows, so no job is claimed twice. A
   * lapsed job already at its last attempt is left to `deadLetterAbandoned`.
   */
  private async claim(kinds: string[]): Promise<JobRow | null> {
    const due = this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(
        and(
          inArray(jobs.status, ["queued", "running"]),
          lte(jobs.runAfter, sql`now()`),
          or(isNull(jobs.lockedUntil), lt(jobs.lockedUntil, sql`now()`)),
          or(eq(jobs.status, "queued"), lt(jobs.attempts, jobs.maxAttempts)),
          inArray(jobs.kind, kinds),
          this.claimableWhen,
        ),
      )
      .orderBy(
        sql`${TENANT_RUNNING} asc`,
        sql`${TENANT_LAST_CLAIMED} asc nulls first`,
        asc(jobs.runAfter),
        asc(jobs.createdAt),
      )
      .limit(1)
      .for("update", { skipLocked: true });
    const [row] = await this.db
      .update(jobs)
      .set({
        status: "running",
        lockedBy: this.workerId,
        lockedUntil: fromNow(this.leaseMs),
        claimedAt: sql`now()`,
        attempts: sql`${jobs.attempts} + 1`,
        lastError: sql`case when ${jobs.status} = 'running' then ${LEASE_LAPSED} else ${jobs.lastError} end`,
        updatedAt: sql`now()`,
      })
      .where(sql`${jobs.id} = (${due})`)
      .returning();
    return row ?? null;
  }

  /**
   * A job whose worker died during its last attempt will not be claimed again: dead-letter it.
   * SKIP LOCKED here too, so two processes sweeping at once never wait on (or deadlock over) rows.
   */
  private async deadLetterAbandoned(): Promise<void> {
    const lapsed = this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(
        and(
          eq(jobs.status, "running"),
          lt(jobs.lockedUntil, sql`now()`),
          sql`${jobs.attempts} >= ${jobs.maxAttempts}`,
        ),
      )
      .for("update", { skipLocked: true });
    const rows = await this.db
      .update(jobs)
      .set({
        status: "dead",
        lastError: LEASE_LAPSED,
        lockedUntil: null,
        finishedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(inArray(jobs.id, lapsed))
      .returning();
    for (const row of rows) {
      this.logger.warn({ jobId: row.id, kind: row.kind, lastError: row.lastError }, "job dead-lettered");
      this.publish("finished", toJobSnapshot(row));
    }
  }

  private begin(row: JobRow): void {
    const run: ActiveRun = {
      row,
      controller: new AbortController(),
      progress: { done: row.progressDone, total: row.progressTotal },
      isProgressDirty: false,
      lastProgressWriteAt: 0,
      progressTimer: null,
      heartbeat: null,
      writes: Promise.resolve(),
      abandoned: null,
      settled: Promise.resolve(),
    };
    this.active.set(row.id, run);
    run.settled = this.execute(run).finally(() => {
      if (this.active.get(row.id) === run) this.active.delete(row.id);
      this.nudge();
    });
  }

  private async execute(run: ActiveRun): Promise<void> {
    const { id, kind, attempts } = run.row;
    const handler = this.handlers.get(kind);
    this.logger.debug({ jobId: id, kind, attempt: attempts }, "job started");
    this.publish("progress", toJobSnapshot(run.row));
    run.heartbeat = setInterval(() => void this.write(run, () => this.renewLease(run)), this.heartbeatMs);
    run.heartbeat.unref();
    let failure: { error: unknown } | null = null;
    try {
      if (!handler) throw new Error(`no handler for job kind "${kind}"`);
      await handler(toJobSnapshot(run.row), {
        signal: run.controller.signal,
        reportProgress: (done, total) => this.reportProgress(run, done, total),
      });
    } catch (error) {
      failure = { error };
    }
    this.stopTimers(run);
    if (run.abandoned) {
      this.logger.info({ jobId: id, kind, reason: run.abandoned }, "job abandoned by this worker");
      return;
    }
    try {
      await this.write(run, () => this.recordOutcome(run, failure));
    } catch (error) {
      // The lease will lapse and another worker (or this one) runs the job again.
      this.logger.error({ err: error, jobId: id }, "recording a job's outcome failed");
    }
  }

  private async recordOutcome(run: ActiveRun, failure: { error: unknown } | null): Promise<void> {
    const { attempts, maxAttempts } = run.row;
    const finished = { lockedUntil: null, finishedAt: sql`now()` };
    let changes: PgUpdateSetSource<typeof jobs>;
    if (!failure) {
      changes = { status: "succeeded", lastError: null, ...finished };
    } else {
      const lastError = errorMessage(failure.error);
      if (failure.error instanceof JobDeferredError) {
        changes = {
          status: "queued",
          attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
          lastError,
          lockedBy: null,
          lockedUntil: null,
          runAfter: fromNow(failure.error.retryInMs),
        };
      } else if (failure.error instanceof PermanentJobError)
        changes = { status: "failed", lastError, ...finished };
      else if (attempts >= maxAttempts) changes = { status: "dead", lastError, ...finished };
      else {
        changes = {
          status: "queued",
          lastError,
          lockedBy: null,
          lockedUntil: null,
          runAfter: fromNow(this.backoff(attempts)),
        };
      }
    }
    const [row] = await this.db
      .update(jobs)
      .set({
        ...changes,
        progressDone: run.progress.done,
        progressTotal: run.progress.total,
        updatedAt: sql`now()`,
      })
      .where(this.ownedBy(run))
      .returning();
    if (!row) {
      this.logger.warn({ jobId: run.row.id }, "job lost its lease before finishing; its outcome is dropped");
      return;
    }
    run.row = row;
    const job = toJobSnapshot(row);
    const level = row.status === "succeeded" ? "debug" : row.status === "queued" ? "info" : "warn";
    this.logger[level](
      { jobId: row.id, kind: row.kind, status: row.status, attempt: attempts, lastError: row.lastError },
      "job attempt finished",
    );
    this.publish(isTerminalJobStatus(row.status) ? "finished" : "progress", job);
  }

  private async reportProgress(run: ActiveRun, done: number, total: number): Promise<void> {
    if (run.abandoned) return;
    const clean = (value: number) => (Number.isFinite(value) ? Math.max(0, Math.floor(value)) : 0);
    run.progress = { done: clean(done), total: clean(total) };
    run.isProgressDirty = true;
    this.publish(
      "progress",
      toJobSnapshot({
        ...run.row,
        progressDone: run.progress.done,
        progressTotal: run.progress.total,
        updatedAt: new Date(),
      }),
    );
    const waitMs = run.lastProgressWriteAt + PROGRESS_WRITE_MS - Date.now();
    if (waitMs <= 0 || run.progress.done >= run.progress.total) {
      await this.write(run, () => this.renewLease(run));
    } else if (!run.progressTimer) {
      run.progressTimer = setTimeout(() => {
        run.progressTimer = null;
        void this.write(run, () => this.renewLease(run));
      }, waitMs);
      run.progressTimer.unref();
    }
  }

  /** Heartbeat: extends the lease and stores unwritten progress; a lost lease aborts the handler. */
  private async renewLease(run: ActiveRun): Promise<void> {
    if (run.abandoned) return;
    const withProgress = run.isProgressDirty;
    run.isProgressDirty = false;
    try {
      const [row] = await this.db
        .update(jobs)
        .set({
          lockedUntil: fromNow(this.leaseMs),
          ...(withProgress
            ? { progressDone: run.progress.done, progressTotal: run.progress.total, updatedAt: sql`now()` }
            : {}),
        })
        .where(this.ownedBy(run))
        .returning();
      if (row) {
        run.row = row;
        if (withProgress) run.lastProgressWriteAt = Date.now();
      } else if (!run.abandoned) {
        this.logger.warn({ jobId: run.row.id }, "job lease lost; aborting its handler");
        this.abandon(run, "lease-lost");
      }
    } catch (error) {
      if (withProgress) run.isProgressDirty = true;
      // Not fatal yet: the lease may still hold at the next heartbeat.
      this.logger.warn({ err: error, jobId: run.row.id }, "renewing a job lease failed");
    }
  }

  /** Gives a job back to the queue at once (shutdown): not counted as an attempt. */
  private async release(run: ActiveRun): Promise<void> {
    if (run.abandoned) return;
    this.abandon(run, "shutdown");
    try {
      const [row] = await this.write(run, () =>
        this.db
          .update(jobs)
          .set({
            status: "queued",
            attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
            lockedBy: null,
            lockedUntil: null,
            runAfter: sql`now()`,
            progressDone: run.progress.done,
            progressTotal: run.progress.total,
            updatedAt: sql`now()`,
          })
          .where(this.ownedBy(run))
          .returning(),
      );
      if (row) this.publish("progress", toJobSnapshot(row));
    } catch (error) {
      this.logger.warn({ err: error, jobId: run.row.id }, "releasing a job failed; its lease will lapse");
    }
  }

  /** This worker stops acting for the job: no more writes, and the handler's signal aborts. */
  private abandon(run: ActiveRun, reason: JobAbortedError["reason"]): void {
    if (run.abandoned) return;
    run.abandoned = reason;
    this.stopTimers(run);
    if (this.active.get(run.row.id) === run) this.active.delete(run.row.id);
    run.controller.abort(new JobAbortedError(reason));
  }

  /** The fence: this worker's claim (same attempt) is still the job's current one. */
  private ownedBy(run: ActiveRun): SQL {
    return and(
      eq(jobs.id, run.row.id),
      eq(jobs.status, "running"),
      eq(jobs.lockedBy, this.workerId),
      eq(jobs.attempts, run.row.attempts),
    ) as SQL;
  }

  private write<T>(run: ActiveRun, fn: () => Promise<T>): Promise<T> {
    const next = run.writes.then(fn);
    run.writes = next.catch(() => {});
    return next;
  }

  private stopTimers(run: ActiveRun): void {
    if (run.heartbeat) clearInterval(run.heartbeat);
    if (run.progressTimer) clearTimeout(run.progressTimer);
    run.heartbeat = null;
    run.progressTimer = null;
  }

  private async notAllowed(id: string, verb: string, why: string): Promise<AppError> {
    const job = await this.get(id);
    if (!job) return new AppError({ code: "NOT_FOUND", message: `No job ${id}` });
    return new AppError({
      code: "CONFLICT",
      message: `Job ${id} is ${job.status} and cannot be ${verb}: ${why}`,
    });
  }

  /** A throwing listener must not break the worker. */
  private publish(event: keyof JobQueueEvents, job: JobSnapshot): void {
    try {
      this.emit(event, job);
    } catch (error) {
      this.logger.error({ err: error, jobId: job.id }, "a job event listener threw");
    }
  }
}
