import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestDatabase, dropTestDatabase, testStoreKind } from "../testing";
import { api } from "../testing/http";
import { type ControlPlaneProcess, freePort, startControlPlaneProcess } from "../testing/process";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const RECORDS = 30_000;
const DIMENSION = 64;

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 180_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: gave up; last ${JSON.stringify(value)}`);
    await sleep(20);
  }
}

async function killHard(plane: ControlPlaneProcess) {
  plane.child.kill("SIGKILL");
  await new Promise((resolve) => plane.child.once("exit", resolve));
}

describe("kill -9 of the control plane during a backup and during a restore", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-backup-crash-"));
  let databaseUrl = "";
  let env: Record<string, string>;
  let plane: ControlPlaneProcess | null = null;

  beforeAll(async () => {
    // PGlite on disk survives the crash like PostgreSQL does.
    if (testStoreKind() === "postgres") databaseUrl = await createTestDatabase("postgres");
    env = {
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      PORT: String(await freePort()),
      VDB_ADMIN_EMAIL: ADMIN_EMAIL,
      VDB_ADMIN_PASSWORD: ADMIN_PASSWORD,
      INSTANCE_MODEL: "hash",
      INSTANCE_DIMENSION: String(DIMENSION),
      RECONCILE_INTERVAL_MS: "200",
      JOB_LEASE_MS: "2000",
      STOP_INSTANCES_ON_EXIT: "true",
    };
  });
  afterAll(async () => {
    await plane?.stop();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("an interrupted backup is never complete and finishes whole after a restart; so does a restore", async () => {
    plane = await startControlPlaneProcess(env);
    const url = plane.url;
    const token = (
      await api(url, "POST", "/auth/login", { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })
    ).body.token;
    const tenantId = (
      await api(url, "POST", "/tenants", { token, body: { slug: "crash", name: "Crash", plan: "pro" } })
    ).body.id;
    const key = (
      await api(url, "POST", `/tenants/${tenantId}/keys`, {
        token,
        body: { name: "k", scopes: ["read", "write"] },
      })
    ).body.secret;
    await api(url, "POST", "/launch", { token, body: { tenantId } });
    await until(
      "instance running",
      () => api(url, "GET", `/status/${tenantId}`, { token }),
      (r) => r.body.state === "running",
    );
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
    );
    expect(midway.body.status).toBe("running"); // interrupted for real, not after the fact
    await killHard(plane);
    const manifest = path.join(dataDir, "blobs", "tenants", tenantId, "backups", backupId, "manifest.json");
    expect(existsSync(manifest)).toBe(false);

    plane = await startControlPlaneProcess(env);
    const first = await api(url, "GET", `/tenants/${tenantId}/backups/${backupId}`, { token });
    if (first.body.status === "completed") expect(first.body.counts.records).toBe(RECORDS);
    else expect(first.body.status).toBe("running");
    const done = await until(
      "backup finished after the restart",
      () => api(url, "GET", `/tenants/${tenantId}/backups/${backupId}`, { token }),
      (r) => r.body.status !== "running",
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
    );
    await killHard(plane);
    plane = await startControlPlaneProcess(env);
    const restored = await until(
      "restore finished after the restart",
      () => api(url, "GET", `/tenants/${tenantId}/restores/${restore.body.id}`, { token }),
      (r) => !["queued", "running"].includes(r.body.status),
    );
    expect(restored.body).toMatchObject({ status: "succeeded", lastError: null });
    const names = (await chroma().listCollections()).map((collection) => collection.name).sort();
    expect(names).toEqual(["bulk"]); // no staging collection left, the stray one replaced away
    const after = await chroma().getCollection({ name: "bulk" });
    expect(await after.count()).toBe(RECORDS);
    const probe = await after.get({ ids: ["r12345"], include: ["documents", "embeddings"] });
    expect(probe.documents).toEqual(["record r12345"]);
    expect(probe.embeddings[0]![3]).toBeCloseTo(Math.sin(12_345 * 0.7 + 3), 5);
  }, 600_000); // two kills, three control-plane starts and 60,000 records moved; each wait has its own deadline
});
