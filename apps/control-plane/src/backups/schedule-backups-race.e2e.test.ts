import { PLANS } from "@vdb/schemas/plans";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backups, jobs } from "../lib/db/schema";
import { startTestServer, type TestServer } from "../testing";
import { api, tenantWithKey } from "../testing/http";
import { BACKUP_JOB } from "./backup-job";
import { BackupScheduler } from "./schedule-backups";

const { backupEveryMs } = PLANS.pro;

let server: TestServer;
const tenants: { id: string; createdAt: number }[] = [];

beforeAll(async () => {
  server = await startTestServer();
  for (const name of ["race-a", "race-b", "race-c", "race-d"]) {
    const { tenantId } = await tenantWithKey(server.url, server.adminToken, name);
    const tenant = await api(server.url, "GET", `/tenants/${tenantId}`, { token: server.adminToken });
    tenants.push({ id: tenantId, createdAt: Date.parse(tenant.body.createdAt) });
  }
}, 300_000);
afterAll(async () => server?.close());

describe("scheduled backups with two control planes on one database", () => {
  it("start exactly one backup (and one job) per tenant and slot, whichever pass comes first", async () => {
    const due = Math.max(...tenants.map((tenant) => tenant.createdAt)) + backupEveryMs;
    // Two control planes' schedulers, their clocks a second apart, passing at the same moment.
    const first = new BackupScheduler(server.services, server.services.logger, () => due);
    const second = new BackupScheduler(server.services, server.services.logger, () => due + 1_000);
    await Promise.all([first.runOnce(), second.runOnce(), first.runOnce(), second.runOnce()]);

    const ids = tenants.map((tenant) => tenant.id);
    const rows = await server.services.db
      .select({ tenantId: backups.tenantId, slot: backups.scheduleSlot, jobId: backups.jobId })
      .from(backups)
      .where(and(inArray(backups.tenantId, ids), eq(backups.source, "scheduled")));
    for (const tenant of tenants) {
      const mine = rows.filter((row) => row.tenantId === tenant.id);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.slot?.getTime()).toBe(tenant.createdAt + backupEveryMs);
    }
    // The loser's job was rolled back with its row: one backup job per tenant, each its backup's.
    const backupJobs = await server.services.db
      .select({ id: jobs.id, tenantId: jobs.tenantId })
      .from(jobs)
      .where(and(inArray(jobs.tenantId, ids), eq(jobs.kind, BACKUP_JOB)));
    expect(backupJobs.map((job) => job.id).sort()).toEqual(rows.map((row) => row.jobId).sort());

    // Backups taken by hand have no slot and are never held back by one.
    for (const tenant of tenants.slice(0, 2)) {
      const manual = await api(server.url, "POST", `/tenants/${tenant.id}/backups`, {
        token: server.adminToken,
      });
      expect(manual.status).toBe(202);
      const again = await api(server.url, "POST", `/tenants/${tenant.id}/backups`, {
        token: server.adminToken,
      });
      expect(again.status).toBe(202);
    }
  }, 120_000);
});
