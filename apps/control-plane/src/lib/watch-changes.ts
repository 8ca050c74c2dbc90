const POLL_MS = 1_000;

export interface WatchChangesOptions<T> {
  /** Reads the watched thing's current value (from the store). */
  read: () => Promise<T>;
  /**
   * Starts listening to this process's own change events and returns how to stop. Call `notify`
   * with the new value when the event carries it (every state is then seen, however quickly they
   * follow one another), or with nothing to have it read again.
   */
  subscribe: (notify: (value?: T) => void) => () => void;
  /** What makes two values the same change: equal keys are yielded once. */
  key: (value: T) => string;
  /** After yielding a value for which this holds, the watch ends. */
  isDone?: (value: T) => boolean;
  /** Whether a quiet period should read the store (default: always). */
  shouldPoll?: () => boolean;
  signal?: AbortSignal;
  pollMs?: number;
}

/**
 * Yields a value now and at every change until it is done or `signal` aborts: the one shape of
 * the live status streams (instances, documents, jobs, backups). Changes made in this process
 * arrive at once through `subscribe`; a poll every `pollMs` catches those of other processes
 * (another control plane's reconciler or workers on the same PostgreSQL).
 */
export async function* watchChanges<T>(opts: WatchChangesOptions<T>): AsyncGenerator<T> {
  const { read, key, isDone, signal, shouldPoll = () => true, pollMs = POLL_MS } = opts;
  const pending: T[] = [];
  let poked = false;
  let wake: (() => void) | null = null;
  const unsubscribe = opts.subscribe((value) => {
    if (value === undefined) poked = true;
    else pending.push(value);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  try {
    pending.push(await read());
    let last: string | undefined;
    while (!signal?.aborted) {
      if (pending.length === 0) {
        if (!poked) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, pollMs);
            timer.unref();
          });
          clearTimeout(timer);
          wake = null;
          if (signal?.aborted) break;
        }
        const wasPoked = poked;
        poked = false;
        if (pending.length === 0 && (wasPoked || shouldPoll())) pending.push(await read());
      }
      for (const value of pending.splice(0)) {
        const valueKey = key(value);
        if (valueKey === last) continue;
        last = valueKey;
        yield value;
        if (isDone?.(value)) return;
      }
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
  }
}
