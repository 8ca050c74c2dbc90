import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BlobStoreHarness, startS3Harness, TEST_BUCKET } from "./blobs/test-harness";
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestDatabase, dropTestDatabase } from "./testing";
import { api } from "./testing/http";
import { type ControlPlaneProcess, startControlPlaneProcess } from "./testing/process";

/**
 * Polls `read` until `isDone`, each call on a connection of its own (`connection: close`). A
 * control plane resuming a job on a loaded machine can stall its event loop for seconds; when it
 * wakes, its keep-alive timer fires before it reads the next request already waiting on the
 * idle connection, and it destroys that socket unread: the client gets ECONNRESET. A fresh
 * connection per poll has no idle time for that timer to count. If `process` exits meanwhile,
 * its output is the failure.
 */
async function pollUntil<T>(
  process: ControlPlaneProcess,
  read: (headers: Record<string, string>) => Promise<T>,
  isDone: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (process.child.exitCode !== null || process.child.signalCode !== null) {
      throw new Error(
        `${what}: the control plane exited (${process.child.exitCode ?? process.child.signalCode}):\n${process.output()}`,
      );
    }
    const value = await read({ connection: "close" });
    if (isDone(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function exitOf(process: ControlPlaneProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (process.child.exitCode !== null) resolve({ code: process.child.exitCode, signal: null });
    process.child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

describe("SIGTERM with an ingestion job running", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-shutdown-"));
  let s3: BlobStoreHarness;
  let databaseUrl: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    s3 = await startS3Harness();
    // PGlite lives in DATA_DIR (one process at a time); PostgreSQL gets a database of its own.
    databaseUrl = await createTestDatabase();
    env = {
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      S3_BUCKET: TEST_BUCKET,
      S3_ENDPOINT: s3.endpoint!,
      S3_FORCE_PATH_STYLE: "true",
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      INSTANCE_MODEL: "hash",
      INSTANCE_DIMENSION: "64",
      RECONCILE_INTERVAL_MS: "200",
      VDB_ADMIN_EMAIL: ADMIN_EMAIL,
      VDB_ADMIN_PASSWORD: ADMIN_PASSWORD,
      SHUTDOWN_GRACE_MS: "500",
    };
  });
  afterAll(async () => {
    if (s3?.pid) process.kill(s3.pid, "SIGCONT");
    await s3?.close();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("exits although the job cannot finish, and the job resumes and completes after a restart", async () => {
    // 1. A tenant, its instance, and a document queued while no worker runs.
    const first = await startControlPlaneProcess({ ...env, RUN_WORKER: "false" }, 180_000);
    const login = await api(first.url, "POST", "/auth/login", {
      body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    const token = login.body.token as string;
    const tenant = await api(first.url, "POST", "/tenants", { token, body: { slug: "graceful", name: "G" } });
    expect(tenant.status).toBe(201);
    const tenantId = tenant.body.id as string;
    expect((await api(first.url, "POST", "/launch", { token, body: { tenantId } })).status).toBeLessThan(300);
    const posted = await api(first.url, "POST", `/docs?tenantId=${tenantId}`, {
      token,
      body: { title: "Handbook", text: "Shutdown must not lose this document. ".repeat(200) },
    });
    expect(posted.status).toBe(201);
    const documentPath = `/docs/${posted.body.id}?tenantId=${tenantId}`;
    await first.stop();

    // 2. A worker takes the job, whose blob store never answers (s3rver stopped mid-flight).
    process.kill(s3.pid!, "SIGSTOP");
    const second = await startControlPlaneProcess(env, 180_000);
    await pollUntil(
      second,
      async (headers) => (await api(second.url, "GET", documentPath, { token, headers })).body.status,
      (status) => status === "processing",
      "the job was never taken",
    );
    const exited = exitOf(second);
    second.child.kill("SIGTERM");
    expect(await exited).toEqual({ code: 0, signal: null });

    // 3. The store answers again; the next control plane resumes the job to the end.
    process.kill(s3.pid!, "SIGCONT");
    const third = await startControlPlaneProcess(env, 180_000);
    try {
      const document = await pollUntil(
        third,
        async (headers) => (await api(third.url, "GET", documentPath, { token, headers })).body,
        (body) => body.status === "ready" || body.status === "failed",
        "the resumed job never finished",
      );
      expect(document).toMatchObject({ status: "ready", failureReason: null });
      expect(document.chunkCount).toBeGreaterThan(0);
    } finally {
      // SIGINT stops the instance too; SIGTERM would leave it running for a next control plane.
      await third.stop("SIGINT");
    }
  }, 900_000);
});
