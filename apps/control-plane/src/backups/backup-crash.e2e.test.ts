import { existsSync } from "node:fs";
import path from "node:path";
import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "../testing";
import { adminSession, api, launchUntilRunning, tenantWithKey, until } from "../testing/http";
import { type RestartablePlane, restartablePlane } from "../testing/process";

// 12 of the backup's read pages (1,000 records) and 6 of the restore's write batches (2,000): a
// kill after the first page still lands mid-way, and the test checks that it did.
const RECORDS = 12_000;
const DIMENSION = 64;
/** Each wait below: a loaded shared machine moves 12,000 records slowly. */
const WAIT = { timeoutMs: 180_000, everyMs: 20 };

describe("kill -9 of the control plane during a backup and during a restore", () => {
  let plane: RestartablePlane;

  beforeAll(async () => {
    plane = await restartablePlane("backup-crash", {
      INSTANCE_DIMENSION: String(DIMENSION),
      STOP_INSTANCES_ON_EXIT: "true",
    });
  });
  afterAll(async () => plane?.dispose());

  it("an interrupted backup is never complete and finishes whole after a restart; so does a restore", async () => {
    const { url } = await plane.start();
    const token = await adminSession(url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const { tenantId, key } = await tenantWithKey(url, token, "crash");
    await launchUntilRunning(url, token, tenantId);
    const chroma = () => {
      const { hostname, port } = new URL(url);
      return new ChromaClient({ host: hostname, port: Number(port), headers: { "x-chroma-token": key } });
    };
    const bulk = await chroma().createCollection({ name: "bulk", embeddingFunction: null });
    for (let start = 0; start < RECORDS; start += 500) {
      const ids = Array.from({ length: 500 }, (_, i) => `r${start + i}`);
      await bulk.add({
        ids,
        embeddings: ids.map((_, i) =>
          Array.from({ length: DIMENSION }, (_, d) => Math.sin((start + i) * 0.7 + d)),
        ),
        documents: ids.map((id) => `record ${id}`),
      });
    }

    // Backup: killed mid-way.
    const started = await api(url, "POST", `/tenants/${tenantId}/backups`, { token });
    expect(started.status).toBe(202);
    const backupId = started.body.id;
    const midway = await until(
      "backup under way",
      () => api(url, "GET", `/tenants/${tenantId}/backups/${backupId}`, { token }),
      (r) => (r.body.progress?.done ?? 0) > 0 || r.body.status !== "running",
      WAIT,
    );
    expect(midway.body.status).toBe("running"); // interrupted for real, not after the fact
    await plane.killHard();
    const manifest = path.join(
      plane.dataDir,
      "blobs",
      "tenants",
      tenantId,
      "backups",
      backupId,
      "manifest.json",
    );
    expect(existsSync(manifest)).toBe(false);

    await plane.start();
    const first = await api(url, "GET", `/tenants/${tenantId}/backups/${backupId}`, { token });
    if (first.body.status === "completed") expect(first.body.counts.records).toBe(RECORDS);
    else expect(first.body.status).toBe("running");
    const done = await until(
      "backup finished after the restart",
      () => api(url, "GET", `/tenants/${tenantId}/backups/${backupId}`, { token }),
      (r) => r.body.status !== "running",
      WAIT,
    );
    expect(done.body).toMatchObject({ status: "completed", counts: { collections: 1, records: RECORDS } });
    expect(existsSync(manifest)).toBe(true);

    // Restore: a stray collection the backup does not have; killed while staging.
    await chroma().createCollection({ name: "stray", embeddingFunction: null });
    const restore = await api(url, "POST", `/tenants/${tenantId}/backups/${backupId}/restore`, {
      token,
      body: {},
    });
    expect(restore.status).toBe(202);
    await until(
      "restore under way",
      () => api(url, "GET", `/tenants/${tenantId}/restores/${restore.body.id}`, { token }),
      (r) => r.body.progress.done > 0 || !["queued", "running"].includes(r.body.status),
      WAIT,
    );
    await plane.killHard();
    await plane.start();
    const restored = await until(
      "restore finished after the restart",
      () => api(url, "GET", `/tenants/${tenantId}/restores/${restore.body.id}`, { token }),
      (r) => !["queued", "running"].includes(r.body.status),
      WAIT,
    );
    expect(restored.body).toMatchObject({ status: "succeeded", lastError: null });
    const names = (await chroma().listCollections()).map((collection) => collection.name).sort();
    expect(names).toEqual(["bulk"]); // no staging collection left, the stray one replaced away
    const after = await chroma().getCollection({ name: "bulk" });
    expect(await after.count()).toBe(RECORDS);
    const probe = await after.get({ ids: ["r11111"], include: ["documents", "embeddings"] });
    expect(probe.documents).toEqual(["record r11111"]);
    expect(probe.embeddings[0]![3]).toBeCloseTo(Math.sin(11_111 * 0.7 + 3), 5);
  }, 600_000); // two kills, three control-plane starts and 24,000 records moved; each wait has its own deadline
});
