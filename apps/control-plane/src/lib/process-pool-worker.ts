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
  handler: (input: unknown, payload: Uint8Array) => Promise<unknown>,
  describeError: (error: unknown) => unknown = () => undefined,
): void {
  const send = (reply: WorkerReply) => process.send?.(reply);
  const payloads = payloadReader(process.stdin);
  process.on("message", async (message: { id: number; input: unknown; payloadBytes: number }) => {
    try {
      const payload = await payloads.read(message.payloadBytes);
      send({ id: message.id, ok: true, value: await handler(message.input, payload) });
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

/**
 * Reads the tasks' payloads off `stream` in order: `read(n)` resolves with the next `n` bytes.
 * The pool writes a task's payload after its message, one task at a time, so bytes that come
 * before their message wait here.
 */
function payloadReader(stream: NodeJS.ReadableStream) {
  const received: Buffer[] = [];
  let buffered = 0;
  let waiting: { bytes: number; resolve: (payload: Uint8Array) => void } | undefined;
  const take = (bytes: number): Uint8Array => {
    const all = received.length === 1 ? received[0]! : Buffer.concat(received, buffered);
    received.length = 0;
    if (all.byteLength > bytes) received.push(all.subarray(bytes));
    buffered -= bytes;
    return all.subarray(0, bytes);
  };
  stream.on("data", (chunk: Buffer) => {
    received.push(chunk);
    buffered += chunk.byteLength;
    if (waiting && buffered >= waiting.bytes) {
      const { bytes, resolve } = waiting;
      waiting = undefined;
      resolve(take(bytes));
    }
  });
  return {
    read(bytes: number): Promise<Uint8Array> {
      if (buffered >= bytes) return Promise.resolve(take(bytes));
      return new Promise((resolve) => {
        waiting = { bytes, resolve };
      });
    },
  };
}
