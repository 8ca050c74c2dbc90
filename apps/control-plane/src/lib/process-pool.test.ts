import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { getPriority, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PoolTestTask } from "../testing/pool-test-worker";
import { createLogger } from "./logger";
import {
  ProcessPool,
  type ProcessPoolOptions,
  procStatFields,
  TaskDeadlineError,
  TaskFailedError,
  TaskMemoryError,
  TaskStarvedError,
  WorkerCrashedError,
} from "./process-pool";

/** Linux's scheduling policies (sched.h). */
const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** The scheduling policy of each thread of `pid` (field 41 of /proc/<pid>/task/<tid>/stat). */
function threadPolicies(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) =>
    procStatFields(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8"))(41),
  );
}

/**
 * The test worker bundled to plain JavaScript once for the file: through tsx, each of the dozens
 * of workers these tests start (and kill) would spend ~2 s of CPU loading the TypeScript loader.
 */
let workerFile: string;
let workerDir: string;
beforeAll(async () => {
  workerDir = mkdtempSync(path.join(tmpdir(), "vdb-pool-test-"));
  workerFile = path.join(workerDir, "pool-test-worker.mjs");
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL("../testing/pool-test-worker.ts", import.meta.url))],
    outfile: workerFile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
  });
});
afterAll(() => rmSync(workerDir, { recursive: true, force: true }));

const pools: ProcessPool[] = [];

function createPool(options: Partial<ProcessPoolOptions> = {}) {
  const pool = new ProcessPool({
    workerFile,
    workers: 1,
    workersPerTenant: 1,
    timeoutMs: 120_000,
    memoryMb: 64,
    logger: createLogger("silent"),
    ...options,
  });
  pools.push(pool);
  return {
    pool,
    run: (tenantId: string, task: PoolTestTask, signal?: AbortSignal) =>
      pool.run(tenantId, task, { signal }) as Promise<{ value: unknown; pid: number }>,
    withPayload: (payload: Uint8Array) =>
      pool.run("t1", { op: "payload" }, { payload }) as Promise<{ value: unknown; pid: number }>,
  };
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

describe("ProcessPool", () => {
  it("runs tasks in a reused child process and returns their values, bytes included", async () => {
    const { run } = createPool();
    const first = await run("t1", { op: "echo", value: { bytes: new Uint8Array([1, 2, 3]) } });
    const second = await run("t1", { op: "echo", value: "again" });
    expect(first.value).toEqual({ bytes: new Uint8Array([1, 2, 3]) });
    expect(first.pid).not.toBe(process.pid);
    expect(second).toEqual({ value: "again", pid: first.pid });
  });

  it("hands each task its payload over stdin, whole and in order, tasks after tasks", async () => {
    const { withPayload } = createPool();
    const checksum = (bytes: Uint8Array) => {
      let sum = 0;
      for (const byte of bytes) sum = (sum * 31 + byte) >>> 0;
      return sum;
    };
    // Far more than a pipe holds (64 KB): it crosses in many writes, each waiting for the reader.
    const large = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7) % 251);
    const small = new TextEncoder().encode("a small file");
    // Queued together: one worker takes them one by one, each payload after its own message.
    const answers = await Promise.all([
      withPayload(large),
      withPayload(new Uint8Array(0)),
      withPayload(small),
      withPayload(large.subarray(1_000_000, 3_000_001)),
    ]);
    expect(answers.map((answer) => answer.value)).toEqual([
      { bytes: large.byteLength, sum: checksum(large) },
      { bytes: 0, sum: 0 },
      { bytes: small.byteLength, sum: checksum(small) },
      { bytes: 2_000_001, sum: checksum(large.subarray(1_000_000, 3_000_001)) },
    ]);
    expect(new Set(answers.map((answer) => answer.pid)).size).toBe(1);
  });

  it("runs every thread of its workers under SCHED_IDLE: any other process preempts them", async () => {
    const { run } = createPool();
    const { pid } = await run("t1", { op: "echo", value: 1 });
    const policies = threadPolicies(pid);
    expect(policies.length).toBeGreaterThan(1); // V8's and libuv's threads too, not only the main one
    expect(new Set(policies)).toEqual(new Set([SCHED_IDLE]));
  });

  it("runs its workers 10 nicer than the process serving requests when asked to (or where SCHED_IDLE is refused)", async () => {
    const { run } = createPool({ priority: "nice" });
    const { pid } = await run("t1", { op: "echo", value: 1 });
    expect(getPriority(pid)).toBe(Math.min(19, getPriority() + 10));
    expect(new Set(threadPolicies(pid))).toEqual(new Set([SCHED_OTHER]));
  });

  it("rejects with what the task threw, and the worker serves the next task", async () => {
    const { run } = createPool();
    const error = await run("t1", { op: "throw", message: "no good" }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as TaskFailedError).error).toEqual({
      name: "Error",
      message: "no good",
      data: { code: "E_TEST" },
    });
    expect((await run("t1", { op: "echo", value: 1 })).value).toBe(1);
  });

  it("kills a task stuck in a synchronous loop at its deadline; the pool goes on with a new worker", async () => {
    const { run } = createPool({ timeoutMs: 1_000 });
    const before = await run("t1", { op: "echo", value: 0 });
    const error = await run("t1", { op: "spin" }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TaskDeadlineError);
    expect((error as TaskDeadlineError).timeoutMs).toBe(1_000);
    const after = await run("t1", { op: "echo", value: 1 });
    expect(after.value).toBe(1);
    expect(after.pid).not.toBe(before.pid);
  });

  it("counts the deadline in the task's CPU time: a task that waits (for a core, say) longer is not killed", async () => {
    const { run } = createPool({ timeoutMs: 300 });
    // Ten times the deadline in wall-clock time, hardly any CPU.
    expect((await run("t1", { op: "wait", ms: 3_000 })).value).toBe("waited");
    expect(await run("t1", { op: "spin" }).catch((thrown: unknown) => thrown)).toBeInstanceOf(
      TaskDeadlineError,
    );
  });

  it("stops a task starved of CPU past the wall-clock backstop, as an error a caller may retry", async () => {
    const { run } = createPool({ timeoutMs: 60_000, wallTimeoutMs: 500 });
    const error = await run("t1", { op: "wait", ms: 60_000 }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TaskStarvedError);
    expect(error).toBeInstanceOf(WorkerCrashedError); // retryable, unlike a deadline or memory failure
    expect((error as TaskStarvedError).wallTimeoutMs).toBe(500);
    expect((error as TaskStarvedError).cpuMs).toBeLessThan(60_000);
    expect((await run("t1", { op: "echo", value: "next" })).value).toBe("next");
  });

  it("kills a task past its memory cap, on V8's heap or outside it", async () => {
    const { run } = createPool({ memoryMb: 64 });
    for (const task of [
      { op: "heap", mb: 400 },
      { op: "buffers", mb: 400 },
    ] as const) {
      const error = await run("t1", task).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TaskMemoryError);
      expect((error as TaskMemoryError).memoryMb).toBe(64);
    }
    expect((await run("t1", { op: "echo", value: "alive" })).value).toBe("alive");
  }, 180_000);

  it("a worker that dies mid-task fails that task only", async () => {
    const { run } = createPool({ workers: 2 });
    const [crashed, answered] = await Promise.allSettled([
      run("t1", { op: "exit", code: 3 }),
      run("t2", { op: "echo", value: "fine" }),
    ]);
    expect(crashed.status === "rejected" && crashed.reason).toBeInstanceOf(WorkerCrashedError);
    expect(answered.status === "fulfilled" && answered.value.value).toBe("fine");
    expect((await run("t1", { op: "echo", value: "next" })).value).toBe("next");
  });

  it("one tenant's stuck tasks cannot hold every worker: another tenant's task runs meanwhile", async () => {
    const { pool, run } = createPool({ workers: 2, workersPerTenant: 1 });
    const hostile = new AbortController();
    let hostileSettled = 0;
    const stuck = [1, 2].map(() =>
      run("tenant-a", { op: "spin" }, hostile.signal).finally(() => hostileSettled++),
    );
    const answer = await run("tenant-b", { op: "echo", value: "b answers" });
    expect(answer.value).toBe("b answers");
    expect(hostileSettled).toBe(0);
    expect(pool.queued).toBe(1); // tenant A's second task waits for A's own share
    hostile.abort(new Error("test over"));
    for (const result of await Promise.allSettled(stuck)) expect(result.status).toBe("rejected");
  });

  it("dispatches waiting tasks round-robin by tenant", async () => {
    const { run } = createPool({ workers: 1 });
    const order: string[] = [];
    const task = (tenantId: string, name: string) =>
      run(tenantId, { op: "echo", value: name }).then(() => order.push(name));
    await Promise.all([
      task("a", "a1"),
      task("a", "a2"),
      task("a", "a3"),
      task("a", "a4"),
      task("b", "b1"),
      task("b", "b2"),
    ]);
    // a1 was running when the rest queued; then the tenants alternate.
    expect(order).toEqual(["a1", "a2", "b1", "a3", "b2", "a4"]);
  });

  it("a task aborted while queued never runs; close() rejects what is left", async () => {
    const { pool, run } = createPool();
    const controller = new AbortController();
    const running = run("t1", { op: "spin" });
    const queued = run("t2", { op: "echo", value: "x" }, controller.signal);
    controller.abort(new Error("cancelled"));
    await expect(queued).rejects.toThrow("cancelled");
    const pending = run("t3", { op: "echo", value: "y" });
    const outcomes = Promise.allSettled([running, pending]);
    await pool.close();
    for (const outcome of await outcomes) {
      expect(outcome.status === "rejected" && outcome.reason).toBeInstanceOf(WorkerCrashedError);
    }
  });
});
