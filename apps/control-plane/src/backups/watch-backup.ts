import { type Backup, BackupRef } from "@vdb/schemas/backups";
import type { Ctx } from "../lib/context";
import { getBackup } from "./get-backup";
import { watchJob } from "./watch-job";

/** Yields the backup now and at every change of its progress, until it is completed or failed. */
export async function* watchBackup({
  ctx,
  input,
  signal,
}: {
  ctx: Ctx;
  input: BackupRef;
  signal?: AbortSignal;
}): AsyncGenerator<Backup> {
  const ref = BackupRef.parse(input);
  const first = await getBackup({ ctx, input: ref });
  if (first.status !== "running") {
    yield first;
    return;
  }
  yield* watchJob(ctx, {
    read: () => getBackup({ ctx, input: ref }),
    key: (backup) => `${backup.status}|${backup.progress?.done}|${backup.progress?.total}`,
    isDone: (backup) => backup.status !== "running",
    ...(signal ? { signal } : {}),
  });
}
