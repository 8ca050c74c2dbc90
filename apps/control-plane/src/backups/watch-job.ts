import type { JobSnapshot } from "../jobs/schemas";
import type { Ctx } from "../lib/context";

const POLL_MS = 1_000;

/**
 * Yields `read()` now and whenever it changes (by `key`), until `isDone` or `signal` aborts. This
 * process's queue wakes it at once; a poll catches other processes' workers.
 */
export async function* watchJob<T>(
  ctx: Ctx,
  opts: {
    read: () => Promise<T>;
    key: (value: T) => string;
    isDone: (value: T) => boolean;
    signal?: AbortSignal;
  },
): AsyncGenerator<T> {
  const { jobs } = ctx.services;
  let wake: (() => void) | null = null;
  const onJob = (_job: JobSnapshot) => wake?.();
  const onAbort = () => wake?.();
  jobs.on("progress", onJob);
  jobs.on("finished", onJob);
  opts.signal?.addEventListener("abort", onAbort);
  try {
    let last = "";
    while (!opts.signal?.aborted) {
      const value = await opts.read();
      const key = opts.key(value);
      if (key !== last) {
        last = key;
        yield value;
      }
      if (opts.isDone(value)) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, POLL_MS).unref();
      });
      wake = null;
    }
  } finally {
    jobs.off("progress", onJob);
    jobs.off("finished", onJob);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}
