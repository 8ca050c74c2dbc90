import { Worker } from "node:worker_threads";
import type { WorkerReply } from "./process-pool";

/**
 * Runs on a thread of its own, so it acts even while the main thread spins in a task: when the
 * server that forked this process is gone (killed with SIGKILL, its pipe never closed), the
 * process kills itself instead of spinning on as an orphan.
 */
const ORPHAN_WATCH = `
const { workerData } = require("node:worker_threads");
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(process.pid, "SIGKILL");
}, 1000);
`;

/**
 * The child side of `ProcessPool`: runs `handler` for each task the pool sends, one at a time,
 * and replies with its value or its error. What `describeError` makes of an error travels back
 * as its `data`, so the pool's caller can rebuild a typed error.
 *
 * @example
 * // parse-worker.ts
 * serveProcessPoolTasks(async (input) => parseAndChunk(input), (error) => ({ kind: error.kind }));
 */
export function serveProcessPoolTasks(
  handler: (input: unknown) => Promise<unknown>,
  describeError: (error: unknown) => unknown = () => undefined,
): void {
  const send = (reply: WorkerReply) => process.send?.(reply);
  process.on("message", async (message: { id: number; input: unknown }) => {
    try {
      send({ id: message.id, ok: true, value: await handler(message.input) });
    } catch (error) {
      send({
        id: message.id,
        ok: false,
        error: {
          name: error instanceof Error ? error.name : "Error",
          message: error instanceof Error ? error.message : String(error),
          data: describeError(error),
        },
      });
    }
  });
  // The pool ends us with SIGKILL; losing it (the server died) must not leave us running.
  process.on("disconnect", () => process.exit(0));
  new Worker(ORPHAN_WATCH, { eval: true, workerData: { parent: process.ppid } }).unref();
  send({ ready: true });
}
