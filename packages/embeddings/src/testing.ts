/**
 * For tests of code that embeds through a worker pool: a worker module that fails the ways a
 * model's thread can — `"throw"` among a task's texts makes it throw, `"exit"` ends the thread —
 * and embeds any other text as `[1, 0]` (so the pool's provider is `hash` with dimension 2).
 *
 * @example
 * ```ts
 * const provider = createWorkerPoolProvider({
 *   provider: { model: "hash", dimension: 2 },
 *   workerFile: FAILING_WORKER_FILE,
 * });
 * ```
 */
export const FAILING_WORKER_FILE = new URL("./test-fixtures/failing-embed-worker.mjs", import.meta.url);
