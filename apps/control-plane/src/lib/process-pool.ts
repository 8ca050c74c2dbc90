import {
  type ChildProcess,
  type ForkOptions,
  fork,
  type SpawnOptions,
  spawn,
  spawnSync,
} from "node:child_process";
import { readFile } from "node:fs/promises";
import { getPriority, setPriority } from "node:os";
import path from "node:path";
import type { Logger } from "./logger";

/**
 * The child processes' side of the protocol: `{ ready: true }` once listening, then one
 * `{ id, ok, value | error }` per task. See `serveProcessPoolTasks` in `process-pool-worker.ts`.
 * A task comes as `{ id, input, payloadBytes }` on the IPC channel; its payload's bytes (if any)
 * follow on the worker's stdin.
 */
export type WorkerReply =
  | { ready: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; data?: unknown } };

/**
 * The task used more than its deadline of CPU time (wall-clock time where the OS does not tell a
 * process's CPU time) and its process was killed. Deterministic enough not to retry.
 */
export class TaskDeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the task ran longer than ${timeoutMs} ms and was killed`);
    this.name = "TaskDeadlineError";
  }
}

/**
 * The task's process grew more than its cap above what it held before the task (resident
 * memory), or passed V8's heap limit, and was killed.
 */
export class TaskMemoryError extends Error {
  constructor(readonly memoryMb: number) {
    super(`the task needed more than ${memoryMb} MB and was killed`);
    this.name = "TaskMemoryError";
  }
}

/** The task threw in the worker; `error` is what it sent back (name, message, its own data). */
export class TaskFailedError extends Error {
  constructor(readonly error: { name: string; message: string; data?: unknown }) {
    super(error.message);
    this.name = "TaskFailedError";
  }
}

/**
 * The worker died for another reason (a signal from outside, a native crash) or never started.
 * Not known to be the input's fault: a caller may retry.
 */
export class WorkerCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerCrashedError";
  }
}

/**
 * The task got too little CPU to finish or reach its deadline within `wallTimeoutMs` (a machine
 * busy with other work for that long) and was killed. The machine's fault, not the input's: a
 * caller may retry.
 */
export class TaskStarvedError extends WorkerCrashedError {
  constructor(
    readonly wallTimeoutMs: number,
    readonly cpuMs: number,
  ) {
    super(
      `the task had ${Math.round(cpuMs)} ms of CPU in ${wallTimeoutMs} ms and was stopped (the machine is busy)`,
    );
    this.name = "TaskStarvedError";
  }
}

export type ProcessPoolOptions = {
  /** The worker module; a `.ts` file runs through tsx (source checkouts, tests). */
  workerFile: string;
  workers: number;
  /** Most tasks of one tenant running at once, even when other workers are idle. */
  workersPerTenant: number;
  /**
   * CPU time a task may use (its process's, every thread counted), from when its worker takes it.
   * CPU rather than wall-clock time, so that a task waiting for a core on a busy machine is not
   * taken for one that costs too much: the same input gets the same verdict under any load.
   * Where the OS does not tell a process's CPU time (not Linux), wall-clock time.
   */
  timeoutMs: number;
  /**
   * Wall-clock time after which a task is stopped however little CPU it had (`TaskStarvedError`,
   * retryable). Default: 10 × `timeoutMs`, at least 10 minutes.
   */
  wallTimeoutMs?: number;
  memoryMb: number;
  /** A worker idle this long exits; the next task starts a fresh one. */
  idleMs?: number;
  /**
   * How workers give way to the serving process when cores are short. `idle` (the default):
   * Linux's SCHED_IDLE policy for every thread of the worker, where `chrt` can set it, else as
   * `nice`. `nice`: 10 nicer than this process.
   */
  priority?: "idle" | "nice";
  logger: Logger;
};

type Task = {
  tenantId: string;
  input: unknown;
  payload: Uint8Array | undefined;
  signal: AbortSignal | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

type Worker = {
  child: ChildProcess;
  isReady: Promise<void>;
  task: (Task & { id: number }) | undefined;
  /** Why this pool killed it, so its exit is reported as that and not as a crash. */
  killedFor: Error | undefined;
  stderrTail: string;
  idleTimer: NodeJS.Timeout | undefined;
};

const STARTUP_TIMEOUT_MS = 60_000;
/** How often a running task's CPU time and memory are read. */
const WATCH_POLL_MS = 50;
const PAGE_BYTES = 4096;
/** Linux's clock ticks a second (USER_HZ: 100 on every architecture Node runs on), for /proc. */
const CLOCK_TICKS = 100;
const MIN_WALL_TIMEOUT_MS = 600_000;
const HEAP_HEADROOM_MB = 128;
/**
 * Workers give way to everything else on the machine: when cores are short, the serving event
 * loop, the store and the instances go first and a tenant's files wait, instead of every request
 * on the machine waiting behind them. An idle core still runs a worker at full speed.
 *
 * Under SCHED_IDLE (the default where Linux allows it) any other process preempts a worker as soon
 * as it wakes. Niceness alone (the fallback, this much nicer than the server) only weighs the
 * shares: nice 10 gets about a tenth of nice 0's, and a waking request can still wait out a
 * worker's time slice. bench/isolation, tenant B's p99 while A's files parse: 50–63 ms with
 * SCHED_IDLE against 56–79 ms niced, same machine (bench/isolation/RESULTS.md).
 */
const WORKER_NICENESS = 10;
/** The nicest a process can be (Linux). */
const NICEST = 19;
/** What V8 prints when a heap passes `--max-old-space-size` (the process then aborts). */
const HEAP_EXHAUSTED = /heap out of memory|Reached heap limit|Allocation failed/i;

/**
 * Runs CPU-heavy tasks in child processes, off the serving event loop, each under a hard deadline
 * (of CPU time) and memory cap; at either limit the process is killed (SIGKILL: a synchronous
 * loop cannot be interrupted any other way) and the task rejects with `TaskDeadlineError` /
 * `TaskMemoryError`. A task starved of CPU for much longer (`wallTimeoutMs`) is stopped too, as
 * a `TaskStarvedError` a caller may retry.
 * Child processes rather than worker threads: a V8 fatal error or a native crash in one task
 * kills only its process, and what a task allocates never counts against the server's own memory.
 *
 * Fair across tenants: queued tasks are dispatched round-robin by tenant, and no tenant runs more
 * than `workersPerTenant` at once, so one tenant's backlog never holds every worker.
 *
 * @example
 * const pool = new ProcessPool({ workerFile, workers: 2, workersPerTenant: 1, timeoutMs: 60_000, memoryMb: 512, logger });
 * const result = await pool.run("ten_1", { filename: "a.pdf" }, { payload: bytes });
 */
export class ProcessPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Set<Worker>();
  private readonly queues = new Map<string, Task[]>();
  /** Tenants in the order they get their next turn. */
  private readonly turns: string[] = [];
  private readonly runningByTenant = new Map<string, number>();
  private nextId = 1;
  private isClosed = false;

  constructor(private readonly opts: ProcessPoolOptions) {
    if (opts.priority !== "nice") idleScheduler();
  }

  /**
   * Runs `input` through the worker module's handler for `tenantId`; see the class comment.
   *
   * `payload`, a file's bytes, goes to the worker over its stdin, written as the pipe takes it;
   * `input` is serialised on this thread (~3 ms a megabyte), which for a file of tens of
   * megabytes would hold the serving loop.
   */
  run(
    tenantId: string,
    input: unknown,
    { signal, payload }: { signal?: AbortSignal; payload?: Uint8Array } = {},
  ): Promise<unknown> {
    if (this.isClosed) return Promise.reject(new WorkerCrashedError("the pool is closed"));
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const task: Task = { tenantId, input, payload, signal, resolve, reject };
      const queue = this.queues.get(tenantId);
      if (queue) queue.push(task);
      else {
        this.queues.set(tenantId, [task]);
        this.turns.push(tenantId);
      }
      signal?.addEventListener("abort", () => this.dropQueued(task), { once: true });
      this.dispatch();
    });
  }

  /** Tasks waiting for a worker, for tests and metrics. */
  get queued(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.length;
    return total;
  }

  /** Kills every worker; running and queued tasks reject. */
  async close(): Promise<void> {
    this.isClosed = true;
    const closed = new WorkerCrashedError("the pool is closed");
    for (const queue of this.queues.values()) for (const task of queue) task.reject(closed);
    this.queues.clear();
    this.turns.length = 0;
    const workers = [...this.idle, ...this.busy];
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => this.kill(worker, closed)));
  }

  private dispatch(): void {
    while (!this.isClosed && (this.idle.length > 0 || this.busy.size < this.opts.workers)) {
      const task = this.takeNextTask();
      if (!task) return;
      let worker = this.idle.pop();
      if (!worker) {
        try {
          worker = this.spawn();
        } catch (error) {
          this.finish(task, undefined, new WorkerCrashedError(`the worker did not start: ${String(error)}`));
          continue;
        }
      }
      void this.start(worker, task);
    }
  }

  /** The next tenant in turn with a task and a free share; it goes to the back of the line. */
  private takeNextTask(): Task | undefined {
    for (let i = 0; i < this.turns.length; i++) {
      const tenantId = this.turns[i]!;
      if ((this.runningByTenant.get(tenantId) ?? 0) >= this.opts.workersPerTenant) continue;
      const queue = this.queues.get(tenantId)!;
      const task = queue.shift()!;
      this.turns.splice(i, 1);
      if (queue.length > 0) this.turns.push(tenantId);
      else this.queues.delete(tenantId);
      this.runningByTenant.set(tenantId, (this.runningByTenant.get(tenantId) ?? 0) + 1);
      return task;
    }
    return undefined;
  }

  private dropQueued(task: Task): void {
    const queue = this.queues.get(task.tenantId);
    const at = queue?.indexOf(task) ?? -1;
    if (!queue || at === -1) return;
    queue.splice(at, 1);
    if (queue.length === 0) {
      this.queues.delete(task.tenantId);
      this.turns.splice(this.turns.indexOf(task.tenantId), 1);
    }
    task.reject(task.signal?.reason);
  }

  private async start(worker: Worker, task: Task): Promise<void> {
    this.busy.add(worker);
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
    worker.child.channel?.ref();
    const id = this.nextId++;
    let deadline: NodeJS.Timeout | undefined;
    let watch: NodeJS.Timeout | undefined;
    const onAbort = () => void this.kill(worker, task.signal?.reason ?? new Error("aborted"));
    const cleanup = () => {
      clearTimeout(deadline);
      clearInterval(watch);
      task.signal?.removeEventListener("abort", onAbort);
    };
    worker.task = {
      ...task,
      id,
      resolve: (value) => {
        cleanup();
        task.resolve(value);
      },
      reject: (error) => {
        cleanup();
        task.reject(error);
      },
    };
    if (task.signal?.aborted) return onAbort();
    task.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await worker.isReady;
    } catch {
      return; // its exit has settled the task
    }
    if (worker.task?.id !== id) return;
    // The clocks start once the worker listens: a cold start is not the file's fault. What the
    // worker holds and has used before the task (its code, tables, garbage of earlier tasks) is
    // not the task's either: the caps count from here.
    const baseline = await processUsage(worker);
    if (worker.task?.id !== id) return;
    const { timeoutMs } = this.opts;
    const wallTimeoutMs = this.opts.wallTimeoutMs ?? Math.max(10 * timeoutMs, MIN_WALL_TIMEOUT_MS);
    let cpuMs = 0;
    deadline = baseline
      ? setTimeout(() => void this.kill(worker, new TaskStarvedError(wallTimeoutMs, cpuMs)), wallTimeoutMs)
      : setTimeout(() => void this.kill(worker, new TaskDeadlineError(timeoutMs)), timeoutMs);
    if (baseline) {
      watch = setInterval(async () => {
        const usage = await processUsage(worker);
        if (!usage || worker.task?.id !== id) return;
        cpuMs = usage.cpuMs - baseline.cpuMs;
        if (cpuMs >= timeoutMs) await this.kill(worker, new TaskDeadlineError(timeoutMs));
        else if (usage.residentBytes - baseline.residentBytes > this.opts.memoryMb * 1024 * 1024) {
          await this.kill(worker, new TaskMemoryError(this.opts.memoryMb));
        }
      }, WATCH_POLL_MS);
    }
    // A send to a worker that just died fails here; its exit settles the task.
    worker.child.send({ id, input: task.input, payloadBytes: task.payload?.byteLength ?? 0 }, () => {});
    if (task.payload && task.payload.byteLength > 0) worker.child.stdin?.write(task.payload);
  }

  private spawn(): Worker {
    const { workerFile, memoryMb } = this.opts;
    // The heap limit backs up the resident-memory watch (and is the cap where there is none);
    // the parsers' own tables take ~100 MB of heap before any file is read.
    const execArgv = [`--max-old-space-size=${memoryMb + HEAP_HEADROOM_MB}`];
    if (workerFile.endsWith(".ts")) execArgv.unshift("--import", "tsx");
    const options: SpawnOptions & ForkOptions = {
      cwd: path.dirname(workerFile),
      // The worker parses what tenants upload: it gets no credentials, no database URL, nothing.
      env: {},
      serialization: "advanced",
      // stdin carries the tasks' payloads (see `run`).
      stdio: ["pipe", "ignore", "pipe", "ipc"],
    };
    const idle = this.opts.priority === "nice" ? null : idleScheduler();
    const child = idle
      ? spawn(idle, ["--idle", "0", process.execPath, ...execArgv, workerFile], options)
      : fork(workerFile, [], { ...options, execArgv });
    if (child.pid !== undefined && !idle) {
      try {
        setPriority(child.pid, Math.min(NICEST, getPriority() + WORKER_NICENESS));
      } catch {
        // not allowed here (a container may forbid it): the worker runs at the parent's priority
      }
    }
    let markReady!: () => void;
    let failStart!: (error: Error) => void;
    const isReady = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    isReady.catch(() => {});
    const worker: Worker = {
      child,
      isReady,
      task: undefined,
      killedFor: undefined,
      stderrTail: "",
      idleTimer: undefined,
    };
    const startup = setTimeout(
      () => void this.kill(worker, new WorkerCrashedError("the worker did not start in time")),
      STARTUP_TIMEOUT_MS,
    );
    // A worker that dies mid-payload breaks the pipe; its exit settles the task.
    child.stdin?.on("error", () => {});
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      worker.stderrTail = (worker.stderrTail + text).slice(-4_096);
    });
    child.on("message", (message: WorkerReply) => {
      if ("ready" in message) {
        clearTimeout(startup);
        markReady();
        return;
      }
      const task = worker.task;
      if (!task || task.id !== message.id) return;
      if (message.ok) this.finish(task, worker, undefined, message.value);
      else this.finish(task, worker, new TaskFailedError(message.error));
    });
    child.on("error", (error) => this.opts.logger.warn({ err: error }, "parse worker process error"));
    child.on("exit", (code, signal) => {
      clearTimeout(startup);
      const reason =
        worker.killedFor ??
        (HEAP_EXHAUSTED.test(worker.stderrTail)
          ? new TaskMemoryError(this.opts.memoryMb)
          : new WorkerCrashedError(
              `the worker process exited (${signal ?? `code ${code}`})${worker.stderrTail ? `: ${worker.stderrTail.trim().slice(-500)}` : ""}`,
            ));
      failStart(reason);
      this.forget(worker);
      if (worker.task) this.finish(worker.task, undefined, reason);
      this.dispatch();
    });
    return worker;
  }

  /** Settles a task; `worker` (when it lives on) returns to the idle list. */
  private finish(
    task: Task & { id?: number },
    worker: Worker | undefined,
    error?: unknown,
    value?: unknown,
  ): void {
    const running = (this.runningByTenant.get(task.tenantId) ?? 1) - 1;
    if (running > 0) this.runningByTenant.set(task.tenantId, running);
    else this.runningByTenant.delete(task.tenantId);
    if (worker) {
      worker.task = undefined;
      this.busy.delete(worker);
      if (this.isClosed) void this.kill(worker, new WorkerCrashedError("the pool is closed"));
      else this.park(worker);
    }
    if (error === undefined) task.resolve(value);
    else task.reject(error);
    this.dispatch();
  }

  private park(worker: Worker): void {
    this.idle.push(worker);
    // An idle worker must not keep the server's process alive, nor its memory forever.
    worker.child.channel?.unref();
    worker.idleTimer = setTimeout(() => {
      const at = this.idle.indexOf(worker);
      if (at === -1) return;
      this.idle.splice(at, 1);
      void this.kill(worker, new WorkerCrashedError("idle"));
    }, this.opts.idleMs ?? 30_000);
    worker.idleTimer.unref();
  }

  private forget(worker: Worker): void {
    this.busy.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at !== -1) this.idle.splice(at, 1);
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
  }

  private kill(worker: Worker, reason: Error): Promise<void> {
    worker.killedFor ??= reason;
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => worker.child.once("exit", () => resolve()));
    worker.child.kill("SIGKILL");
    return exited;
  }
}

/**
 * Field `number` (1-based, as `man 5 proc` numbers them) of a /proc/<pid>/stat or
 * /proc/<pid>/task/<tid>/stat line, as a number.
 */
export function procStatFields(stat: string): (number: number) => number {
  // The fields after the command name, which is in parentheses and may hold spaces: field 3 on.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (number) => Number(fields[number - 3]);
}

/**
 * A worker process's CPU time (user and system, all its threads) and resident memory, where the
 * OS tells them cheaply (Linux's /proc/<pid>/stat); elsewhere undefined, and the deadline is
 * wall-clock time and V8's heap limit the only memory cap.
 */
async function processUsage(worker: Worker): Promise<{ cpuMs: number; residentBytes: number } | undefined> {
  const pid = worker.child.pid;
  if (!pid) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (!stat) return undefined;
  const field = procStatFields(stat);
  const cpuMs = ((field(14) + field(15)) * 1000) / CLOCK_TICKS; // utime, stime
  const residentBytes = field(24) * PAGE_BYTES; // rss, in pages
  return Number.isFinite(cpuMs) && Number.isFinite(residentBytes) ? { cpuMs, residentBytes } : undefined;
}

let idleSchedulerPath: string | null | undefined;
/**
 * `chrt`, when it can start a process under Linux's SCHED_IDLE policy here: such a process runs
 * only on a core nothing else wants, and every other process preempts it at once. Else null
 * (not Linux, no util-linux, or a sandbox that forbids it): workers then run niced instead.
 */
function idleScheduler(): string | null {
  if (idleSchedulerPath !== undefined) return idleSchedulerPath;
  idleSchedulerPath = null;
  for (const candidate of ["/usr/bin/chrt", "/bin/chrt"]) {
    // chrt starting itself: a few ms, once per process, when the pool is made (not per task).
    const probe = spawnSync(candidate, ["--idle", "0", candidate, "--version"], { stdio: "ignore" });
    if (probe.status === 0) {
      idleSchedulerPath = candidate;
      break;
    }
  }
  return idleSchedulerPath;
}
