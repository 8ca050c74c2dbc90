import { type Restore, RestoreRef } from "@vdb/schemas/backups";
import type { Ctx } from "../lib/context";
import { getRestore } from "./get-restore";
import { watchJob } from "./watch-job";

/** Yields the restore now and at every change of its progress, until it has finished. */
export async function* watchRestore({
  ctx,
  input,
  signal,
}: {
  ctx: Ctx;
  input: RestoreRef;
  signal?: AbortSignal;
}): AsyncGenerator<Restore> {
  const ref = RestoreRef.parse(input);
  yield* watchJob(ctx, {
    read: () => getRestore({ ctx, input: ref }),
    key: (restore) =>
      `${restore.status}|${restore.progress.done}|${restore.progress.total}|${restore.lastError}`,
    isDone: (restore) => restore.status !== "queued" && restore.status !== "running",
    ...(signal ? { signal } : {}),
  });
}
