import type { Ctx } from "../lib/context";
import { type WatchChangesOptions, watchChanges } from "../lib/watch-changes";

/**
 * Yields `read()` now and whenever it changes (by `key`), until `isDone` or `signal` aborts. This
 * process's job queue wakes it at once; a poll catches other processes' workers.
 */
export function watchJob<T>(
  ctx: Ctx,
  opts: Pick<WatchChangesOptions<T>, "read" | "key" | "isDone" | "signal">,
): AsyncGenerator<T> {
  const { jobs } = ctx.services;
  return watchChanges({
    ...opts,
    subscribe: (notify) => {
      const onJob = () => notify();
      jobs.on("progress", onJob);
      jobs.on("finished", onJob);
      return () => {
        jobs.off("progress", onJob);
        jobs.off("finished", onJob);
      };
    },
  });
}
