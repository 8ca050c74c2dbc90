import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@vdb/http/errors";
import { newId } from "@vdb/schemas/ids";
import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../lib/db/client";
import { jobs, tenants } from "../lib/db/schema";
import { createLogger } from "../lib/logger";
import { createTestDatabase, dropTestDatabase, testStoreKind } from "../testing";
import { openTestStore } from "../testing/pglite-template";
import {
  type JobAbortedError,
  JobDeferredError,
  JobQueue,
  type JobQueueOptions,
  PermanentJobError,
} from "./job-queue";
import type { JobSnapshot } from "./schemas";

const logger = createLogger(process.env.LOG_LEVEL ?? "silent");

let databaseUrl: string;
let dataDir: string;
let store: Store;
/** A second connection to the same database, as another control-plane process has (PGlite: the same one). */
let otherProcess: Store;
const queues: JobQueue[] = [];
let kindCounter = 0;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), "vdb-jobs-"));
  store = await openTestStore({ databaseUrl, dataDir });
  otherProcess = testStoreKind() === "postgres" ? await openTestStore({ databaseUrl, dataDir }) : store;
});

afterEach(async () => {
  await Promise.all(queues.splice(0).map((queue) => queue.stop(50)));
});

afterAll(async () => {
  if (otherProcess !== store) await otherProcess?.close();
  await store?.close();
  await dropTestDatabase(databaseUrl);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Each test uses its own job kind, so queues of different tests never take each other's jobs. */
function uniqueKind(): string {
  kindCounter += 1;
  return `test-${kindCounter}`;
}

function newQueue(opts: Partial<JobQueueOptions> = {}): JobQueue {
  const queue = new JobQueue({
    db: store.db,
    logger,
    pollMs: 20,
    leaseMs: 2_000,
    backoff: () => 50,
    ...opts,
  });
  queues.push(queue);
  return queue;
}

async function waitFor<T>(
  read: () => Promise<T>,
  isDone: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (isDone(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await sleep(20);
  }
}

function finished(queue: JobQueue, id: string, timeoutMs?: number): Promise<JobSnapshot> {
  return waitFor(
    async () => (await queue.get(id))!,
    (job) => ["succeeded", "failed", "dead"].includes(job.status),
    timeoutMs,
  );
}

describe("running jobs", () => {
  it("enqueue → run → succeeded, with the payload, progress events and stored progress", async () => {
    const kind = uniqueKind();
    const queue = newQueue();
    const seen: unknown[] = [];
    queue.register(kind, async (job, { reportProgress }) => {
      seen.push(job.payload);
      for (let done = 1; done <= 3; done++) await reportProgress(done, 3);
    });
    const events: JobSnapshot[] = [];
    const finishedEvents: JobSnapshot[] = [];
    queue.on("progress", (job) => events.push(job));
    queue.on("finished", (job) => finishedEvents.push(job));
    queue.start();

    const job = await queue.enqueue({ kind, payload: { documentId: "doc_1" } });
    expect(job).toMatchObject({
      status: "queued",
      attempts: 0,
      maxAttempts: 5,
      progress: { done: 0, total: 0 },
    });
    const done = await finished(queue, job.id);

    expect(done).toMatchObject({
      status: "succeeded",
      attempts: 1,
      lastError: null,
      progress: { done: 3, total: 3 },
    });
    expect(done.finishedAt).not.toBeNull();
    expect(seen).toEqual([{ documentId: "doc_1" }]);
    const mine = events.filter((event) => event.id === job.id);
    expect(mine[0]).toMatchObject({ status: "running", attempts: 1 });
    expect(mine.slice(1).map((event) => event.progress.done)).toEqual([1, 2, 3]);
    expect(finishedEvents.filter((event) => event.id === job.id)).toMatchObject([{ status: "succeeded" }]);
  });

  it("retries a failing job after its backoff, then succeeds", async () => {
    const kind = uniqueKind();
    const queue = newQueue({ backoff: () => 150 });
    const startedAt: number[] = [];
    queue.register(kind, async (job) => {
      startedAt.push(Date.now());
      if (job.attempts < 3) throw new Error(`flaky ${job.attempts}`);
    });
    const requeued: JobSnapshot[] = [];
    queue.on("progress", (job) => {
      if (job.status === "queued") requeued.push(job);
    });
    queue.start();

    const job = await queue.enqueue({ kind, payload: {} });
    const done = await finished(queue, job.id);

    expect(done).toMatchObject({ status: "succeeded", attempts: 3, lastError: null });
    expect(requeued.map((event) => event.lastError)).toEqual(["flaky 1", "flaky 2"]);
    expect(startedAt).toHaveLength(3);
    expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(140);
    expect(startedAt[2]! - startedAt[1]!).toBeGreaterThanOrEqual(140);
  });

  it("dead-letters a job after maxAttempts, keeping the last error", async () => {
    const kind = uniqueKind();
    const queue = newQueue();
    let calls = 0;
    queue.register(kind, async () => {
      calls += 1;
      throw new Error(`boom ${calls}`);
    });
    const finishedEvents: JobSnapshot[] = [];
    queue.on("finished", (job) => finishedEvents.push(job));
    queue.start();

    const job = await queue.enqueue({ kind, payload: {}, maxAttempts: 3 });
    const dead = await finished(queue, job.id);

    expect(dead).toMatchObject({ status: "dead", attempts: 3, maxAttempts: 3, lastError: "boom 3" });
    expect(dead.finishedAt).not.toBeNull();
    await sleep(150); // nothing runs it again
    expect(calls).toBe(3);
    expect(finishedEvents.filter((event) => event.id === job.id)).toHaveLength(1);
  });

  it("fails at once, without retrying, on a PermanentJobError", async () => {
    const kind = uniqueKind();
    const queue = newQueue();
    let calls = 0;
    queue.register(kind, async () => {
      calls += 1;
      throw new PermanentJobError("not a PDF: cannot parse");
    });
    queue.start();

    const job = await queue.enqueue({ kind, payload: {} });
    const failed = await finished(queue, job.id);

    expect(failed).toMatchObject({ status: "failed", attempts: 1, lastError: "not a PDF: cannot parse" });
    await sleep(150);
    expect(calls).toBe(1);
  });

  it("a JobDeferredError puts the job back without counting the attempt", async () => {
    const kind = uniqueKind();
    const queue = newQueue();
    let calls = 0;
    queue.register(kind, async () => {
      calls += 1;
      if (calls <= 4) throw new JobDeferredError("the instance is starting", { retryInMs: 10 });
    });
    const requeued: JobSnapshot[] = [];
    queue.on("progress", (event) => event.status === "queued" && requeued.push(event));
    queue.start();

    // Four deferrals with two attempts allowed: none of them is a failure.
    const job = await queue.enqueue({ kind, payload: {}, maxAttempts: 2 });
    const done = await finished(queue, job.id);

    expect(done).toMatchObject({ status: "succeeded", attempts: 1, lastError: null });
    expect(calls).toBe(5);
    expect(requeued.map((event) => [event.attempts, event.lastError])).toEqual(
      Array.from({ length: 4 }, () => [0, "the instance is starting"]),
    );
  });

  it("claims no job that fails claimableWhen, and claims it at the first poll once it holds", async () => {
    const tenantId = newId("tenant");
    await store.db
      .insert(tenants)
      .values({ id: tenantId, slug: `hold-${tenantId.slice(-6)}`, name: "closed", plan: "starter" });
    const kind = uniqueKind();
    const queue = newQueue({
      claimableWhen: sql`exists (select 1 from ${tenants} where ${tenants.id} = ${jobs.tenantId} and ${tenants.name} = 'open')`,
    });
    let calls = 0;
    queue.register(kind, async () => {
      calls += 1;
    });
    queue.start();

    const job = await queue.enqueue({ kind, tenantId, payload: {}, maxAttempts: 1 });
    await sleep(200); // ten polls
    expect(await queue.get(job.id)).toMatchObject({ status: "queued", attempts: 0 });
    expect(calls).toBe(0);

    await store.db.update(tenants).set({ name: "open" }).where(eq(tenants.id, tenantId));
    expect(await finished(queue, job.id)).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(calls).toBe(1);
  });

  it("takes turns across tenants: a backlog of one tenant does not make another's job wait behind it", async () => {
    const tenantIds = [newId("tenant"), newId("tenant")] as const;
    for (const id of tenantIds) {
      await store.db.insert(tenants).values({ id, slug: `turn-${id.slice(-6)}`, name: id, plan: "starter" });
    }
    const [busy, small] = tenantIds;
    const kind = uniqueKind();
    const queue = newQueue();
    const ran: string[] = [];
    queue.register(kind, async (job) => {
      ran.push(job.tenantId === busy ? "busy" : "small");
    });
    // All due before the worker starts: FIFO would run the busy tenant's six first.
    const enqueued = [];
    for (let i = 0; i < 6; i++) enqueued.push(await queue.enqueue({ kind, tenantId: busy, payload: { i } }));
    for (let i = 0; i < 3; i++) enqueued.push(await queue.enqueue({ kind, tenantId: small, payload: { i } }));
    queue.start(1);
    for (const job of enqueued) await finished(queue, job.id);
    // Round robin while both wait (the oldest job first), then the rest of the backlog.
    expect(ran).toEqual(["busy", "small", "busy", "small", "busy", "small", "busy", "busy", "busy"]);
  });

  it("gives a worker slot to the tenant with fewer jobs running", async () => {
    const tenantIds = [newId("tenant"), newId("tenant")] as const;
    for (const id of tenantIds) {
      await store.db.insert(tenants).values({ id, slug: `share-${id.slice(-6)}`, name: id, plan: "starter" });
    }
    const [busy, small] = tenantIds;
    const kind = uniqueKind();
    const queue = newQueue();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const running: string[] = [];
    queue.register(kind, async (job) => {
      running.push(job.tenantId === busy ? "busy" : "small");
      await gate;
    });
    for (let i = 0; i < 5; i++) await queue.enqueue({ kind, tenantId: busy, payload: { i } });
    const late = await queue.enqueue({ kind, tenantId: small, payload: {} });
    queue.start(2);
    // Two slots: one for each tenant, though the busy tenant's five are older.
    await waitFor(
      async () => running.length,
      (n) => n >= 2,
    );
    expect(running.slice(0, 2).sort()).toEqual(["busy", "small"]);
    release();
    expect(await finished(queue, late.id)).toMatchObject({ status: "succeeded" });
  });

  it("waits for runAfter before running a job", async () => {
    const kind = uniqueKind();
    const queue = newQueue();
    let ranAt = 0;
    queue.register(kind, async () => {
      ranAt = Date.now();
    });
    queue.start();
    const runAfter = new Date(Date.now() + 300);
    const job = await queue.enqueue({ kind, payload: {}, runAfter });
    await finished(queue, job.id);
    expect(ranAt).toBeGreaterThanOrEqual(runAfter.getTime() - 20);
  });
});

describe("transactions", () => {
  it("a job enqueued in a rolled-back transaction does not exist; a committed one runs", async () => {
    const kind = uniqueKind();
    const queue = newQueue();
    const ran: string[] = [];
    queue.register(kind, async (job) => {
      ran.push(job.payload.name as string);
    });
    queue.start();

    await expect(
      store.db.transaction(async (tx) => {
        await queue.enqueue({ kind, payload: { name: "rolled back" } }, tx);
        throw new Error("the caller's own write failed");
      }),
    ).rejects.toThrow("the caller's own write failed");
    const committed = await store.db.transaction((tx) =>
      queue.enqueue({ kind, payload: { name: "committed" } }, tx),
    );
    queue.nudge();
    await finished(queue, committed.id);
    await sleep(100);

    expect(ran).toEqual(["committed"]);
    const listed = await queue.list({ kind });
    expect(listed.items.map((job) => job.payload.name)).toEqual(["committed"]);
  });
});

describe("retry, list", () => {
  it("retry() puts a dead job back in the queue with its attempts reset", async () => {
    const kind = uniqueKind();
    const queue = newQueue();
    let isBroken = true;
    queue.register(kind, async () => {
      if (isBroken) throw new Error("upstream down");
    });
    queue.start();
    const job = await queue.enqueue({ kind, payload: {}, maxAttempts: 2 });
    expect(await finished(queue, job.id)).toMatchObject({ status: "dead", attempts: 2 });

    isBroken = false;
    const retried = await queue.retry(job.id);
    expect(retried).toMatchObject({ status: "queued", attempts: 0, lastError: null, finishedAt: null });
    expect(await finished(queue, job.id)).toMatchObject({ status: "succeeded", attempts: 1 });

    await expect(queue.retry(job.id)).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(queue.retry(newId("job"))).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("lists a tenant's jobs newest first, page by page, filtered by status", async () => {
    const tenantId = newId("tenant");
    await store.db
      .insert(tenants)
      .values({ id: tenantId, slug: `jobs-${tenantId.slice(-6)}`, name: "J", plan: "starter" });
    const kind = uniqueKind();
    const queue = newQueue();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await queue.enqueue({ kind, tenantId, payload: { i } })).id);

    const first = await queue.list({ tenantId, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await queue.list({ tenantId, limit: 2, cursor: first.nextCursor! });
    expect(second.nextCursor).toBeNull();
    expect([...first.items, ...second.items].map((job) => job.id).sort()).toEqual([...ids].sort());
    expect(first.items.every((job) => job.tenantId === tenantId)).toBe(true);

    expect((await queue.list({ tenantId, status: "succeeded" })).items).toEqual([]);
    expect((await queue.list({ tenantId, status: "queued" })).items).toHaveLength(3);
    await expect(queue.list({ cursor: "garbage" })).rejects.toBeInstanceOf(AppError);
  });
});

describe("several workers", () => {
  it("two workers on two connections race over 50 jobs: each job runs exactly once", async () => {
    const kind = uniqueKind();
    const first = newQueue({ workerId: "worker-a" });
    const second = newQueue({ db: otherProcess.db, workerId: "worker-b" });
    const runs: string[] = [];
    const handler = async (job: JobSnapshot) => {
      runs.push(job.id);
      await sleep(Math.random() * 10);
    };
    first.register(kind, handler);
    second.register(kind, handler);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await first.enqueue({ kind, payload: { i } })).id);

    first.start(4);
    second.start(4);
    await waitFor(
      () => first.list({ kind, status: "succeeded", limit: 100 }),
      (page) => page.items.length === 50,
      20_000,
    );

    expect(runs).toHaveLength(50);
    expect(new Set(runs)).toEqual(new Set(ids));
    const rows = await store.db.select().from(jobs).where(eq(jobs.kind, kind));
    expect(rows.every((row) => row.attempts === 1 && row.status === "succeeded")).toBe(true);
    expect(new Set(rows.map((row) => row.lockedBy))).toEqual(new Set(["worker-a", "worker-b"]));
  });

  it("takes over the job of a worker that died, once its lease lapses", async () => {
    const kind = uniqueKind();
    // The crashed worker: its handler never returns and, as in a dead process, no heartbeat runs.
    const crashed = newQueue({ workerId: "crashed", leaseMs: 500, heartbeatMs: 60_000 });
    let hasStarted = false;
    crashed.register(kind, () => {
      hasStarted = true;
      return new Promise<void>(() => {});
    });
    crashed.start();
    const job = await crashed.enqueue({ kind, payload: {} });
    await waitFor(
      async () => hasStarted,
      (value) => value,
    );
    const claimedAt = Date.now();

    const survivor = newQueue({ db: otherProcess.db, workerId: "survivor", leaseMs: 500 });
    let survivorRanAt = 0;
    survivor.register(kind, async () => {
      survivorRanAt = Date.now();
    });
    survivor.start();
    const done = await finished(survivor, job.id);

    expect(done).toMatchObject({ status: "succeeded", attempts: 2, lockedBy: "survivor" });
    expect(survivorRanAt - claimedAt).toBeGreaterThanOrEqual(400);
  });

  it("keeps a live worker's job: heartbeats renew the lease beyond leaseMs", async () => {
    const kind = uniqueKind();
    const busy = newQueue({ workerId: "busy", leaseMs: 300 });
    busy.register(kind, () => sleep(1_000));
    const idle = newQueue({ db: otherProcess.db, workerId: "idle", leaseMs: 300 });
    let idleRuns = 0;
    idle.register(kind, async () => {
      idleRuns += 1;
    });
    busy.start();
    const job = await busy.enqueue({ kind, payload: {} });
    await waitFor(
      () => busy.get(job.id),
      (snapshot) => snapshot?.status === "running",
    );
    idle.start();

    expect(await finished(busy, job.id)).toMatchObject({
      status: "succeeded",
      attempts: 1,
      lockedBy: "busy",
    });
    expect(idleRuns).toBe(0);
  });

  it("aborts a handler whose lease another worker took, and records nothing for it", async () => {
    const kind = uniqueKind();
    const queue = newQueue({ workerId: "loser", leaseMs: 300 });
    let abortReason: unknown;
    queue.register(kind, async (_job, { signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      abortReason = signal.reason;
      throw new Error("aborted");
    });
    queue.start();
    const job = await queue.enqueue({ kind, payload: {} });
    await waitFor(
      () => queue.get(job.id),
      (snapshot) => snapshot?.status === "running",
    );

    // As if this worker had stalled past its lease and another had claimed the job.
    await otherProcess.db
      .update(jobs)
      .set({
        lockedBy: "thief",
        lockedUntil: sql`now() + interval '1 minute'`,
        attempts: sql`${jobs.attempts} + 1`,
      })
      .where(eq(jobs.id, job.id));
    await waitFor(
      async () => abortReason,
      (reason) => reason !== undefined,
      2_000,
    );

    expect((abortReason as JobAbortedError).reason).toBe("lease-lost");
    await sleep(100);
    expect(await queue.get(job.id)).toMatchObject({
      status: "running",
      lockedBy: "thief",
      attempts: 2,
      lastError: null,
    });
  });

  it("dead-letters a job whose worker died during its last attempt", async () => {
    const kind = uniqueKind();
    const crashed = newQueue({ workerId: "crashed", leaseMs: 300, heartbeatMs: 60_000 });
    crashed.register(kind, () => new Promise<void>(() => {}));
    crashed.start();
    const job = await crashed.enqueue({ kind, payload: {}, maxAttempts: 1 });
    await waitFor(
      () => crashed.get(job.id),
      (snapshot) => snapshot?.status === "running",
    );

    const other = newQueue({ db: otherProcess.db, leaseMs: 300 });
    let otherRuns = 0;
    other.register(kind, async () => {
      otherRuns += 1;
    });
    other.start();
    const dead = await finished(other, job.id);

    expect(dead).toMatchObject({ status: "dead", attempts: 1 });
    expect(dead.lastError).toBe("attempt 1: its worker (crashed) stopped renewing the lease");
    expect(otherRuns).toBe(0);
  });

  it("stop() gives unfinished jobs back at once, so another worker resumes them without waiting for the lease", async () => {
    const kind = uniqueKind();
    const stopping = newQueue({ workerId: "stopping", leaseMs: 60_000 });
    let abortReason: unknown;
    stopping.register(kind, (_job, { signal }) => {
      signal.addEventListener("abort", () => {
        abortReason = signal.reason;
      });
      return new Promise<void>(() => {}); // ignores the abort, like a stuck parser
    });
    stopping.start();
    const job = await stopping.enqueue({ kind, payload: {}, maxAttempts: 1 });
    await waitFor(
      () => stopping.get(job.id),
      (snapshot) => snapshot?.status === "running",
    );

    await stopping.stop(100);
    expect((abortReason as JobAbortedError).reason).toBe("shutdown");
    expect(await stopping.get(job.id)).toMatchObject({ status: "queued", attempts: 0, lockedBy: null });

    const next = newQueue({ db: otherProcess.db, workerId: "next", leaseMs: 60_000 });
    next.register(kind, async () => {});
    next.start();
    expect(await finished(next, job.id, 2_000)).toMatchObject({
      status: "succeeded",
      attempts: 1,
      lockedBy: "next",
    });
  });

  it("stop() waits for a handler that finishes within the timeout", async () => {
    const kind = uniqueKind();
    const queue = newQueue();
    queue.register(kind, () => sleep(200));
    queue.start();
    const job = await queue.enqueue({ kind, payload: {} });
    await waitFor(
      () => queue.get(job.id),
      (snapshot) => snapshot?.status === "running",
    );
    await queue.stop(5_000);
    expect(await queue.get(job.id)).toMatchObject({ status: "succeeded" });
  });
});
