import type { Logger } from "./logger";

/**
 * What closing may take beyond the jobs' grace period (instances stopped, buffers flushed, the
 * store closed) before the process exits regardless.
 */
export const CLOSE_MARGIN_MS = 10_000;

/**
 * Ends the process on SIGTERM or SIGINT within a bounded time: `close` runs (running jobs get
 * `graceMs` to finish, then are given back to the queue, see JobQueue.stop), and if it has not
 * finished after `graceMs + CLOSE_MARGIN_MS` the process exits anyway, with code 1. A second
 * signal exits at once. A job given back resumes on the next worker or restart.
 *
 * @example
 * exitOnSignals({ logger, graceMs: config.SHUTDOWN_GRACE_MS, close: () => services.close() });
 */
export function exitOnSignals(opts: {
  logger: Logger;
  graceMs: number;
  close: (signal: NodeJS.Signals) => Promise<void>;
}): void {
  let isStopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (isStopping) {
      opts.logger.warn({ signal }, "second signal while stopping: exiting now");
      process.exit(1);
    }
    isStopping = true;
    opts.logger.info({ signal, graceMs: opts.graceMs }, "stopping");
    setTimeout(() => {
      opts.logger.error(
        { afterMs: opts.graceMs + CLOSE_MARGIN_MS },
        "stopping took too long: exiting anyway",
      );
      process.exit(1);
    }, opts.graceMs + CLOSE_MARGIN_MS);
    opts.close(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        opts.logger.error({ err: error }, "stopping failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
