/**
 * Lets the event loop run everything already due (timers, sockets: other tenants' requests,
 * `/health`) before the caller goes on. A chain of awaits on promises that resolve at once
 * (PGlite runs in-process) never does this by itself.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `run(0)` … `run(count - 1)`, started in index order with at most `inFlight` running at
 * once, and hands each result to `inOrder` in index order: a result that comes early waits for
 * those before it, so `inOrder` sees a gapless prefix (progress that a resume can trust). A
 * result is held only until its turn, so at most `inFlight` of them exist at a time.
 *
 * On the first failure (of `run` or of `inOrder`) nothing more starts; the runs already started
 * are waited for (so nothing of them is still writing when the caller handles the failure), and
 * the earliest failure in index order is thrown.
 *
 * @example
 * await runInOrder(batches.length, 2, (i) => send(batches[i]), (i) => report(i + 1));
 */
export async function runInOrder<T>(
  count: number,
  inFlight: number,
  run: (index: number) => Promise<T>,
  inOrder: (index: number, result: T) => Promise<void> | void,
): Promise<void> {
  type Outcome = { ok: true; value: T } | { ok: false; error: unknown };
  const running: { index: number; outcome: Promise<Outcome> }[] = [];
  const slots = Math.max(1, inFlight);
  let next = 0;
  let failure: { error: unknown } | undefined;
  for (;;) {
    while (!failure && next < count && running.length < slots) {
      const index = next++;
      const outcome = (async () => run(index))().then(
        (value): Outcome => ({ ok: true, value }),
        (error: unknown): Outcome => ({ ok: false, error }),
      );
      running.push({ index, outcome });
    }
    const head = running.shift();
    if (!head) break;
    const outcome = await head.outcome;
    if (failure) continue; // draining: only waiting for the started ones
    if (!outcome.ok) {
      failure = { error: outcome.error };
      continue;
    }
    try {
      await inOrder(head.index, outcome.value);
    } catch (error) {
      failure = { error };
    }
  }
  if (failure) throw failure.error;
}
