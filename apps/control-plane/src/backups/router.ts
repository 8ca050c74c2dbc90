import type { TRPCRouterRecord } from "@trpc/server";
import { Deleted } from "@vdb/schemas/answers";
import {
  Backup,
  BackupRef,
  CreateBackupInput,
  ListBackupsInput,
  Restore,
  RestoreBackupInput,
  RestoreRef,
} from "@vdb/schemas/backups";
import { pageOf } from "@vdb/schemas/pagination";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { createBackup } from "./create-backup";
import { deleteBackup } from "./delete-backup";
import { getBackup } from "./get-backup";
import { getRestore } from "./get-restore";
import { listBackups } from "./list-backups";
import { restoreBackup } from "./restore-backup";
import { watchBackup } from "./watch-backup";
import { watchRestore } from "./watch-restore";

export const backupsRouter = {
  create: procedure
    .input(CreateBackupInput)
    .output(Backup)
    .mutation(({ ctx, input }) => createBackup({ ctx: verbCtx(ctx), input })),
  list: procedure
    .input(ListBackupsInput)
    .output(pageOf(Backup))
    .query(({ ctx, input }) => listBackups({ ctx: verbCtx(ctx), input })),
  get: procedure
    .input(BackupRef)
    .output(Backup)
    .query(({ ctx, input }) => getBackup({ ctx: verbCtx(ctx), input })),
  delete: procedure
    .input(BackupRef)
    .output(Deleted)
    .mutation(({ ctx, input }) => deleteBackup({ ctx: verbCtx(ctx), input })),
  /** Into the backup's own tenant (replacing its data) or into `targetTenantId`. */
  restore: procedure
    .input(RestoreBackupInput)
    .output(Restore)
    .mutation(({ ctx, input }) => restoreBackup({ ctx: verbCtx(ctx), input })),
  getRestore: procedure
    .input(RestoreRef)
    .output(Restore)
    .query(({ ctx, input }) => getRestore({ ctx: verbCtx(ctx), input })),
  /** Live backup progress over SSE, until completed or failed. */
  onProgress: procedure
    .input(BackupRef)
    .subscription(({ ctx, input, signal }) =>
      watchBackup({ ctx: verbCtx(ctx), input, ...(signal ? { signal } : {}) }),
    ),
  /** Live restore progress over SSE, until it has finished. */
  onRestoreProgress: procedure
    .input(RestoreRef)
    .subscription(({ ctx, input, signal }) =>
      watchRestore({ ctx: verbCtx(ctx), input, ...(signal ? { signal } : {}) }),
    ),
} satisfies TRPCRouterRecord;
