import { PLANS } from "@vdb/schemas/plans";
import { and, desc, eq, inArray } from "drizzle-orm";
import { backups, jobs, tenants } from "../lib/db/schema";
import type { Logger } from "../lib/logger";
import type { Services } from "../services";
import { startScheduledBackup } from "./create-backup";
import { snapshotPrefix } from "./snapshot";
import { BACKUP_WITH_JOB, toBackup } from "./to-backup";

/** How often the schedule is looked at: a backup starts at most this late. */
const SCHEDULE_POLL_MS = 60_000;

/**
 * The plans' scheduled backups (`backupEveryMs`, `backupsKept` in PLANS). The schedule is kept
 * nowhere but in the backups themselves: a tenant's next one is due `backupEveryMs` after its last
 * scheduled backup (or after the tenant was created), so a restart, however long, loses nothing
 * and never starts a burst of catch-up backups: one that is overdue starts at the next pass.
 *
 * `runOnce` is one pass at the clock's time; `start` runs it every minute. Passes in one process
 * never overlap; control planes running it side by side on one database start one backup per
 * slot between them (a unique (tenant, slot) index, see startScheduledBackup).
 */
export class BackupScheduler {
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> = Promise.resolve();

  constructor(
    private readonly services: Pick<Services, "db" | "jobs" | "blobs">,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.runOnce().catch((error: unknown) =>
        this.logger.error({ err: error }, "a pass of the backup schedule failed"),
      );
    }, SCHEDULE_POLL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pass.catch(() => {});
  }

  /** Starts every due scheduled backup and prunes the old ones, at the clock's time. */
  runOnce(): Promise<void> {
    const next = this.pass.catch(() => {}).then(() => this.runPass());
    this.pass = next;
    return next;
  }

  private async runPass(): Promise<void> {
    const { db } = this.services;
    const scheduledPlans = Object.entries(PLANS)
      .filter(([, plan]) => plan.backupEveryMs > 0)
      .map(([name]) => name as keyof typeof PLANS);
    if (scheduledPlans.length === 0) return;
    const rows = await db
      .select({ id: tenants.id, plan: tenants.plan, createdAt: tenants.createdAt })
      .from(tenants)
      .where(inArray(tenants.plan, scheduledPlans));
    for (const tenant of rows) {
      try {
        await this.runForTenant(tenant);
      } catch (error) {
        this.logger.error({ err: error, tenantId: tenant.id }, "could not run a tenant's scheduled backup");
      }
    }
  }

  private async runForTenant(tenant: { id: string; plan: keyof typeof PLANS; createdAt: Date }) {
    const { db, blobs } = this.services;
    const { backupEveryMs, backupsKept } = PLANS[tenant.plan];
    const scheduled = (
      await db
        .select(BACKUP_WITH_JOB)
        .from(backups)
        .leftJoin(jobs, eq(jobs.id, backups.jobId))
        .where(and(eq(backups.tenantId, tenant.id), eq(backups.source, "scheduled")))
        .orderBy(desc(backups.createdAt))
    ).map(({ backup, job }) => ({
      id: backup.id,
      status: toBackup(backup, job).status,
      createdAt: backup.createdAt,
    }));
    const now = this.now();
    const last = scheduled[0]?.createdAt ?? tenant.createdAt;
    // One at a time: a tenant whose instance is down for days gets one backup when it is back.
    const isRunning = scheduled.some((backup) => backup.status === "running");
    const slot = last.getTime() + backupEveryMs;
    if (!isRunning && now >= slot) {
      // Null when another control plane started this slot's backup first: nothing to do.
      await startScheduledBackup(this.services, tenant.id, {
        slot: new Date(slot),
        createdAt: new Date(now),
      });
    }
    // Prune: the newest `backupsKept` completed ones stay, with any failed ones newer than the
    // oldest of them (a failure stays visible until a success replaces it).
    const completed = scheduled.filter((backup) => backup.status === "completed");
    const oldestKept = completed[backupsKept - 1]?.createdAt;
    if (!oldestKept) return;
    const expired = scheduled.filter(
      (backup) => backup.status !== "running" && backup.createdAt.getTime() < oldestKept.getTime(),
    );
    for (const backup of expired) {
      // The row first: a snapshot whose row is gone is never listed or restored.
      await db.delete(backups).where(eq(backups.id, backup.id));
      await blobs.deletePrefix(snapshotPrefix(tenant.id, backup.id));
      this.logger.info({ tenantId: tenant.id, backupId: backup.id }, "pruned an old scheduled backup");
    }
  }
}
