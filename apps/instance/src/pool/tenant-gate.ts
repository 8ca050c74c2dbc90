import { AppError } from "@vdb/http/errors";

/** Runs a tenant's requests at most `concurrency` at a time, the rest in arrival order. */
export interface TenantGate {
  /** Takes a slot (waiting for one if need be); the returned function gives it back. */
  enter(): Promise<() => void>;
}

/** A dedicated instance serves one tenant: nothing to share, no gate. */
export const OPEN_GATE: TenantGate = { enter: async () => () => {} };

/**
 * A pool's per-tenant gate: `concurrency` requests run at once, `queue` more wait, and past that
 * the tenant is told to slow down (429) rather than fill the pool's event loop and Chroma with
 * work that its neighbours' requests would wait behind.
 */
export function createTenantGate(opts: { concurrency: number; queue: number }): TenantGate {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return {
    async enter() {
      if (running < opts.concurrency) {
        running++;
        return once(release);
      }
      if (waiting.length >= opts.queue) {
        throw new AppError({
          code: "RATE_LIMITED",
          message: `This tenant has ${opts.concurrency} requests running and ${waiting.length} waiting in its shared pool; retry in a moment`,
          retryAfterSeconds: 1,
        });
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
      return once(release);
    },
  };
}

function once(fn: () => void): () => void {
  let isDone = false;
  return () => {
    if (isDone) return;
    isDone = true;
    fn();
  };
}
