import { availableParallelism } from "node:os";
import Piscina from "piscina";
import { createEmbeddingProvider } from "./create-provider";
import type { EmbedTask } from "./embed-worker";
import { EmbeddingConfigError, EmbeddingRequestError } from "./errors";
import type { EmbeddingProvider, EmbedPriority, EmbedResult, ProviderOptions } from "./provider";

/**
 * Texts per task. A batch is cut into tasks this small so that every thread works on it and a
 * query waits for at most one task per thread, not for a whole batch. use-lite embeds 8 texts
 * in about the time of 3 single ones (a model run has a fixed cost), and 32 at once are not
 * faster per text than 8.
 */
export const TEXTS_PER_TASK = 8;
/**
 * How much nicer than the process a thread is while it embeds `bulk` work (upserts, ingestion):
 * any other process's work (another tenant's instance, the control plane) and this process's
 * `query` tasks take the core first. A thread is back at the process's niceness for a query task.
 */
export const BULK_NICENESS = 10;
/** Threads beyond the first stop after this long without work, and give their model's memory back. */
const IDLE_THREAD_MS = 60_000;
const WORKER_FILE = new URL("./embed-worker.mjs", import.meta.url);

export interface WorkerPoolOptions {
  /** The provider each thread creates: `use-lite` or `transformers:<dir>`. */
  provider: Omit<ProviderOptions, "workers">;
  /** Threads at most, each with its own copy of the model; default one per core. */
  workers?: number;
  /** How much nicer than the process a thread is for `bulk` work: default {@link BULK_NICENESS}, 0 none. */
  bulkNiceness?: number | undefined;
  textsPerTask?: number;
  /** The worker module; tests give one that fails on purpose. */
  workerFile?: URL;
}

interface Task {
  texts: string[];
  offset: number;
  request: Request;
  priority: EmbedPriority;
}

interface Request {
  vectors: number[][];
  truncated: number[];
  pending: number;
  failed: boolean;
  resolve(result: EmbedResult): void;
  reject(error: Error): void;
}

/**
 * An embedding provider whose model runs in worker threads (piscina), never on the caller's
 * thread: a server keeps answering while it embeds, and a batch uses every core. Each thread
 * loads its own copy of the model (use-lite: ~100 MB each); one thread stays up, the others start
 * when there is work for them and stop after a minute without. A thread embeds `bulk` work
 * niced ({@link BULK_NICENESS}), so that it gives way to every other process's work.
 *
 * Work is scheduled here, not in piscina's queue: a batch is split into tasks of
 * {@link TEXTS_PER_TASK} texts, at most one task per thread is handed out at a time, and the next
 * one comes from the `query` queue first, then from the `bulk` batches in turn (so one big batch
 * does not hold up a small one sent after it). A thread that throws or dies fails only the
 * request it was working on, with an {@link EmbeddingRequestError}; piscina replaces the thread.
 *
 * @example
 * ```ts
 * const provider = createWorkerPoolProvider({ provider: { model: "use-lite" }, workers: 2 });
 * const { vectors } = await provider.embed(texts); // on two threads
 * const query = await provider.embed(["refund policy"], { priority: "query" }); // served first
 * await provider.close?.();
 * ```
 */
export function createWorkerPoolProvider(
  options: WorkerPoolOptions,
): EmbeddingProvider & { close(): Promise<void> } {
  const { textsPerTask = TEXTS_PER_TASK, bulkNiceness = BULK_NICENESS } = options;
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) {
    throw new EmbeddingConfigError(`embedding workers must be a whole number of at least 1, got ${workers}`);
  }
  // Created here only to check the options and learn the name and dimension: it loads no model.
  const local = createEmbeddingProvider(options.provider);
  const pool = new Piscina<EmbedTask, EmbedResult>({
    filename: (options.workerFile ?? WORKER_FILE).href,
    minThreads: 1,
    maxThreads: workers,
    idleTimeout: IDLE_THREAD_MS,
  });
  // A thread that fails while idle is replaced by piscina; one that fails during a task fails that
  // task's request (below). Without a listener, the event would take the whole process down.
  pool.on("error", () => {});

  const queries: Task[] = [];
  const batches: Task[][] = [];
  let running = 0;
  let isClosed = false;

  const next = (): Task | undefined => {
    const query = queries.shift();
    if (query) return query;
    // Round robin over the waiting batches: the first batch's next task, then the second's, …
    const batch = batches.shift();
    if (!batch) return undefined;
    const task = batch.shift();
    if (batch.length > 0) batches.push(batch);
    return task;
  };

  const pump = () => {
    while (running < workers) {
      const task = next();
      if (!task) return;
      if (task.request.failed) continue;
      running++;
      pool
        .run({
          provider: options.provider,
          texts: task.texts,
          niceness: task.priority === "bulk" ? bulkNiceness : 0,
        })
        .then(
          (result) => settle(task, result),
          (error: unknown) => fail(task.request, error),
        )
        .finally(() => {
          running--;
          pump();
        });
    }
  };

  const settle = (task: Task, result: EmbedResult) => {
    const { request } = task;
    if (request.failed) return;
    result.vectors.forEach((vector, index) => {
      request.vectors[task.offset + index] = vector;
    });
    for (const index of result.truncated) request.truncated.push(task.offset + index);
    request.pending--;
    if (request.pending === 0) {
      request.truncated.sort((a, b) => a - b);
      request.resolve({ vectors: request.vectors, truncated: request.truncated });
    }
  };

  const fail = (request: Request, error: unknown) => {
    if (request.failed) return;
    request.failed = true;
    const reason = error instanceof Error ? error.message : String(error);
    request.reject(
      new EmbeddingRequestError(
        `${local.name}: the worker thread embedding this request failed (${reason}); ` +
          "other requests are not affected and a new thread takes its place",
        { cause: error },
      ),
    );
  };

  return {
    name: local.name,
    dimension: local.dimension,
    maxInputTokens: local.maxInputTokens,
    embed(texts, embedOptions) {
      if (isClosed)
        return Promise.reject(new EmbeddingRequestError(`${local.name}: the embedding pool is closed`));
      if (texts.length === 0) return Promise.resolve({ vectors: [], truncated: [] });
      const priority: EmbedPriority = embedOptions?.priority ?? "bulk";
      return new Promise<EmbedResult>((resolve, reject) => {
        const request: Request = {
          vectors: new Array(texts.length),
          truncated: [],
          pending: 0,
          failed: false,
          resolve,
          reject,
        };
        const tasks: Task[] = [];
        for (let offset = 0; offset < texts.length; offset += textsPerTask) {
          tasks.push({ texts: texts.slice(offset, offset + textsPerTask), offset, request, priority });
        }
        request.pending = tasks.length;
        if (priority === "query") queries.push(...tasks);
        else batches.push(tasks);
        pump();
      });
    },
    async close() {
      isClosed = true;
      for (const task of [...queries, ...batches.flat()]) {
        fail(task.request, new Error("the embedding pool was closed"));
      }
      queries.length = 0;
      batches.length = 0;
      await pool.destroy();
    },
  };
}
