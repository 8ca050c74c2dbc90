/**
 * The load generator for bench/search: autocannon in a worker thread (its own event loop, so the
 * client does not share one with the in-process control plane), recording every response's
 * latency as a float. autocannon's own histogram keeps whole milliseconds, too coarse for a
 * 1.5 ms goal; its `response` event carries the hrtime duration unrounded.
 *
 * This module is both sides: `runLoad()` in the main thread starts a worker on this same file,
 * and the worker (recognised by its `workerData`) runs autocannon and posts the samples back.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import autocannon from "autocannon";

export interface LoadRequest {
  method: "GET" | "POST";
  path: string;
  body?: string;
}

export interface LoadJob {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  origin: string;
  headers: Record<string, string>;
  /** Each connection sends these in order, round and round. */
  requests: LoadRequest[];
  connections: number;
  seconds: number;
}

export interface LoadResult {
  /** Latency of every 2xx response, in ms, sorted ascending. */
  latencies: Float64Array;
  /** 2xx responses per second of the run. */
  qps: number;
  ok: number;
  non2xx: number;
  /** Socket errors plus timeouts. */
  errors: number;
  /** Non-2xx status codes seen, with counts. */
  statuses: Record<string, number>;
  elapsedSeconds: number;
}

interface WorkerInput {
  benchSearchLoad: LoadJob;
}

type WorkerMessage = { ok: true; result: LoadResult } | { ok: false; error: string };

function isWorkerInput(data: unknown): data is WorkerInput {
  return typeof data === "object" && data !== null && "benchSearchLoad" in data;
}

/** Runs one load job in a fresh worker thread and resolves with its samples. */
export function runLoad(job: LoadJob): Promise<LoadResult> {
  // tsx does not reach worker threads by itself: register it in the worker, then load this file.
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const self = import.meta.url;
  const source = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(self)}); });`;
  const worker = new Worker(source, {
    eval: true,
    workerData: { benchSearchLoad: job } satisfies WorkerInput,
  });
  return new Promise((resolve, reject) => {
    worker.once("message", (message: WorkerMessage) => {
      void worker.terminate();
      if (message.ok) resolve(message.result);
      else reject(new Error(`load worker: ${message.error}`));
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`load worker exited with code ${code}`));
    });
  });
}

function runInWorker(job: LoadJob): void {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const started = performance.now();
  const instance = autocannon(
    {
      url: job.origin,
      headers: job.headers,
      connections: job.connections,
      duration: job.seconds,
      requests: job.requests.map((request) => ({
        method: request.method,
        path: request.path,
        ...(request.body === undefined ? {} : { body: request.body }),
      })),
    },
    (error, result) => {
      const elapsedSeconds = (performance.now() - started) / 1000;
      if (error) {
        parentPort?.postMessage({ ok: false, error: String(error) } satisfies WorkerMessage);
        return;
      }
      const sorted = Float64Array.from(latencies).sort();
      const message: WorkerMessage = {
        ok: true,
        result: {
          latencies: sorted,
          qps: latencies.length / elapsedSeconds,
          ok: latencies.length,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          statuses,
          elapsedSeconds,
        },
      };
      parentPort?.postMessage(message, [sorted.buffer]);
    },
  );
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    else statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
}

if (!isMainThread && isWorkerInput(workerData)) runInWorker(workerData.benchSearchLoad);
