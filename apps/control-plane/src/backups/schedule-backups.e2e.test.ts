import type { Backup } from "@vdb/schemas/backups";
import { PLANS } from "@vdb/schemas/plans";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestText, startTestServer, type TestServer } from "../testing";
import { api, launchUntilRunning, tenantWithKey, until } from "../testing/http";
import { BackupScheduler } from "./schedule-backups";
import { manifestKey } from "./snapshot";

const DAY_MS = 24 * 60 * 60_000;
const { backupEveryMs, backupsKept } = PLANS.pro;

let server: TestServer;
let tenantId: string;
let createdAt: number;

async function listBackups(): Promise<Backup[]> {
  const listed = await api(server.url, "GET", `/tenants/${tenantId}/backups?limit=100`, {
    token: server.adminToken,
  });
  expect(listed.status).toBe(200);
  return listed.body.items;
}

/** Waits for every listed backup to have finished (they are real jobs on a real instance). */
function settled(): Promise<Backup[]> {
  return until(
    "every backup to finish",
    listBackups,
    (items) => items.every((item) => item.status !== "running"),
    {
      everyMs: 200,
    },
  );
}

const scheduledOnes = (items: Backup[]) => items.filter((item) => item.source === "scheduled");

beforeAll(async () => {
  server = await startTestServer();
  ({ tenantId } = await tenantWithKey(server.url, server.adminToken, "scheduled"));
  await launchUntilRunning(server.url, server.adminToken, tenantId);
  await ingestText(server, tenantId, "Vacation", "Employees get thirty days of paid vacation.", 240_000);
  const tenant = await api(server.url, "GET", `/tenants/${tenantId}`, { token: server.adminToken });
  createdAt = Date.parse(tenant.body.createdAt);
}, 300_000);
afterAll(async () => server?.close());

describe("scheduled backups (the plan's schedule, on an injected clock)", () => {
  it("backs up once per period, keeps the newest N, never touches backups taken by hand", async () => {
    expect(backupEveryMs).toBe(DAY_MS);
    let clock = createdAt + 60 * 60_000;
    const scheduler = new BackupScheduler(server.services, server.services.logger, () => clock);

    // Not due an hour after the tenant was created.
    await scheduler.runOnce();
    expect(await listBackups()).toEqual([]);

    // Due a day after: one backup, marked scheduled, taken at the clock's time.
    clock = createdAt + backupEveryMs;
    await scheduler.runOnce();
    let items = await settled();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ source: "scheduled", status: "completed" });
    expect(Date.parse(items[0]!.createdAt)).toBe(clock);
    expect(items[0]!.counts.documents).toBe(1);
    const first = items[0]!.id;
    // A second pass at the same time starts nothing.
    await scheduler.runOnce();
    expect(await listBackups()).toHaveLength(1);

    // One taken by hand: the schedule neither counts nor prunes it.
    const manual = await api(server.url, "POST", `/tenants/${tenantId}/backups`, {
      token: server.adminToken,
    });
    expect(manual.status).toBe(202);

    // A restarted control plane has a new scheduler: the schedule lives in the backups themselves.
    const restarted = new BackupScheduler(server.services, server.services.logger, () => clock);
    for (let day = 2; day <= backupsKept + 2; day++) {
      clock = createdAt + day * backupEveryMs;
      await restarted.runOnce();
      await settled();
    }
    // Down for ten days: one backup when it is back, not ten.
    const before = new Set(scheduledOnes(await listBackups()).map((item) => item.id));
    clock += 10 * backupEveryMs;
    await restarted.runOnce();
    items = await settled();
    expect(scheduledOnes(items).filter((item) => !before.has(item.id))).toHaveLength(1);
    // The next pass prunes to the newest `backupsKept`.
    await restarted.runOnce();
    items = await listBackups();
    const kept = scheduledOnes(items);
    expect(kept).toHaveLength(backupsKept);
    expect(kept.every((item) => item.status === "completed")).toBe(true);
    const expectedTimes = [
      clock,
      ...Array.from({ length: backupsKept - 1 }, (_, i) => createdAt + (backupsKept + 2 - i) * backupEveryMs),
    ];
    expect(kept.map((item) => Date.parse(item.createdAt)).sort((a, b) => b - a)).toEqual(expectedTimes);
    expect(items.map((item) => item.id)).toContain(manual.body.id);
    // A pruned backup is gone, its snapshot too; a kept one is whole.
    expect(items.map((item) => item.id)).not.toContain(first);
    await expect(server.services.blobs.get(manifestKey(tenantId, first))).rejects.toThrow();
    await expect(server.services.blobs.get(manifestKey(tenantId, kept.at(-1)!.id))).resolves.toBeTruthy();
  }, 300_000);
});
