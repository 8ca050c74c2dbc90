/** Runs the functions given to it with at most `limit` of them running at once, the rest queued. */
export type Limiter = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * A limiter: `limit(() => work())` resolves or rejects as `work` does, once a slot is free.
 *
 * @example
 * const limit = createLimiter(8);
 * await Promise.all(rows.map((row) => limit(() => reconcile(row))));
 */
export function createLimiter(limit: number): Limiter {
  const slots = Math.max(1, limit);
  let active = 0;
  const queue: (() => void)[] = [];
  // A freed slot passes straight to the first in line: were it freed and then taken by the
  // waiter when it resumes, a caller whose turn came in between could take it too.
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active--;
  };
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active >= slots) await new Promise<void>((resolve) => queue.push(resolve));
    else active++;
    try {
      return await work();
    } finally {
      release();
    }
  };
}

/**
 * Lets the event loop run everything already due (timers, sockets: other tenants' requests,
 * `/health`) before the caller goes on. A chain of awaits on promises that resolve at once
 * (PGlite runs in-process) never does this by itself.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
