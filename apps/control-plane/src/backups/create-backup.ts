import { type Backup, CreateBackupInput } from "@vdb/schemas/backups";
import { newId } from "@vdb/schemas/ids";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { backups } from "../lib/db/schema";
import type { Services } from "../services";
import { BACKUP_JOB } from "./backup-job";
import { findBackupOrThrow, toBackup } from "./to-backup";

/** Starts a backup of the tenant on request. */
export async function createBackup({ ctx, input }: { ctx: Ctx; input: CreateBackupInput }): Promise<Backup> {
  const { tenantId } = CreateBackupInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  return startBackup(ctx.services, tenantId, { source: "backup" });
}

/**
 * A backup's row and its durable job, in one transaction (callers check who may start it);
 * `createdAt` is the schedule's clock for scheduled ones.
 */
export async function startBackup(
  services: Pick<Services, "db" | "jobs">,
  tenantId: string,
  opts: { source: "backup" | "scheduled"; createdAt?: Date },
): Promise<Backup> {
  const started = await insertBackup(services, tenantId, opts);
  if (!started) throw new Error("a backup without a schedule slot cannot conflict");
  return started;
}

/**
 * The scheduled backup of `slot` (the time it fell due), unless one was started for that slot
 * already: by this control plane or another running the schedule on the same database. Null then.
 */
export function startScheduledBackup(
  services: Pick<Services, "db" | "jobs">,
  tenantId: string,
  opts: { slot: Date; createdAt: Date },
): Promise<Backup | null> {
  return insertBackup(services, tenantId, { source: "scheduled", ...opts });
}

/** Thrown inside the transaction to roll its job back when the slot was taken. */
class SlotTaken extends Error {}

async function insertBackup(
  services: Pick<Services, "db" | "jobs">,
  tenantId: string,
  opts: { source: "backup" | "scheduled"; createdAt?: Date; slot?: Date },
): Promise<Backup | null> {
  const { db, jobs } = services;
  const id = newId("backup");
  try {
    await db.transaction(async (tx) => {
      const job = await jobs.enqueue(
        { kind: BACKUP_JOB, tenantId, payload: { backupId: id }, maxAttempts: 3 },
        tx as unknown as typeof db,
      );
      // The unique (tenant, slot) index decides between control planes: the second one's insert
      // waits for the first's transaction, then inserts nothing, and its job is rolled back.
      const inserted = await tx
        .insert(backups)
        .values({
          id,
          tenantId,
          source: opts.source,
          status: "running",
          jobId: job.id,
          ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
          ...(opts.slot ? { scheduleSlot: opts.slot } : {}),
        })
        .onConflictDoNothing({ target: [backups.tenantId, backups.scheduleSlot] })
        .returning({ id: backups.id });
      if (inserted.length === 0) throw new SlotTaken();
    });
  } catch (error) {
    if (error instanceof SlotTaken) return null;
    throw error;
  }
  jobs.nudge();
  const { backup, job } = await findBackupOrThrow(db, tenantId, id);
  return toBackup(backup, job);
}
