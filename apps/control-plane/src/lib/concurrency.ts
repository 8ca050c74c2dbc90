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
  const release = () => {
    active--;
    queue.shift()?.();
  };
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active >= slots) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await work();
    } finally {
      release();
    }
  };
}
