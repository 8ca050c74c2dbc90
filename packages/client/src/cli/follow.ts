import { CliError } from "./errors";

interface Subscription {
  unsubscribe(): void;
}

export interface FollowOptions<T> {
  /** Starts the live subscription (tRPC over SSE). */
  subscribe(handlers: { onData(value: T): void; onError(error: unknown): void }): Subscription;
  /** Reads the current value: used when the live stream breaks. */
  poll(): Promise<T>;
  isDone(value: T): boolean;
  onValue?(value: T): void;
  /** Gives up with the last value seen after this long; no limit when omitted. */
  timeoutMs?: number;
  /** What the timeout error says, given the last value seen. */
  describeTimeout?(last: T | undefined): string;
  pollIntervalMs?: number;
}

/**
 * Follows a value until `isDone`: live through the subscription, and by polling should the
 * stream fail (a proxy that buffers SSE, a dropped connection), so a long ingestion still ends.
 */
export function follow<T>(options: FollowOptions<T>): Promise<T> {
  const { pollIntervalMs = 1_000 } = options;
  return new Promise<T>((resolve, reject) => {
    let last: T | undefined;
    let settled = false;
    let subscription: Subscription | null = null;
    let pollTimer: NodeJS.Timeout | undefined;
    const deadline =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            finish(() =>
              reject(
                new CliError(
                  options.describeTimeout?.(last) ??
                    `gave up after ${Math.round(options.timeoutMs! / 1000)} s`,
                ),
              ),
            );
          }, options.timeoutMs);

    function finish(settle: () => void) {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(pollTimer);
      subscription?.unsubscribe();
      settle();
    }

    function see(value: T) {
      if (settled) return;
      last = value;
      options.onValue?.(value);
      if (options.isDone(value)) finish(() => resolve(value));
    }

    async function pollOnce() {
      try {
        see(await options.poll());
      } catch (error) {
        finish(() => reject(error));
        return;
      }
      if (!settled) pollTimer = setTimeout(pollOnce, pollIntervalMs);
    }

    subscription = options.subscribe({
      onData: see,
      onError() {
        subscription?.unsubscribe();
        subscription = null;
        // The stream's error may be a real one (no access): polling then reports it properly.
        if (!settled) void pollOnce();
      },
    });
    // The callbacks may have finished the follow before `subscription` was assigned.
    if (settled) subscription.unsubscribe();
  });
}
