import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestDatabase, dropTestDatabase, testStoreKind } from "../testing";
import { api } from "../testing/http";
import { type ControlPlaneProcess, freePort, startControlPlaneProcess } from "../testing/process";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: gave up; last ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

/** 1,000 paragraphs of ~35 tokens: with chunkSize 50 and no overlap, one chunk each. */
const TEXT = Array.from(
  { length: 1_000 },
  (_, i) =>
    `Paragraph ${i} describes item ${i} of the catalogue, its colour ${["red", "green", "blue"][i % 3]}, its weight of ${i % 97} grams and where it is stored.`,
).join("\n\n");

describe("kill -9 of the control plane in the middle of an ingestion", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-crash-"));
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
      // A real model, so embedding 1,000 chunks takes long enough to be interrupted.
      INSTANCE_MODEL: "use-lite",
      INSTANCE_DIMENSION: "512",
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

  it("after a restart the job completes with exactly 1,000 chunks in Chroma: none lost, none duplicated", async () => {
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

    const created = await api(url, "POST", "/docs", {
      token: key,
      body: { title: "Catalogue", text: TEXT, chunkSize: 50, chunkOverlap: 0 },
    });
    expect(created.status).toBe(201);
    const documentId = created.body.id;
    const midway = await until(
      "ingestion under way",
      () => api(url, "GET", `/docs/${documentId}`, { token: key }),
      (r) => (r.body.progress?.done ?? 0) > 0 || r.body.status === "ready",
    );
    expect(midway.body.status).not.toBe("ready"); // interrupted for real, not after the fact
    plane.child.kill("SIGKILL");
    await new Promise((resolve) => plane!.child.once("exit", resolve));

    plane = await startControlPlaneProcess(env);
    const done = await until(
      "ingestion finished after restart",
      () => api(url, "GET", `/docs/${documentId}`, { token: key }),
      (r) => r.body.status === "ready" || r.body.status === "failed",
      180_000,
    );
    expect(done.body).toMatchObject({ status: "ready", chunkCount: 1_000 });
    expect(done.body.chunks).toHaveLength(1_000);

    const { body: grant } = await api(url, "POST", "/generate-token", { token: key, body: { tenantId } });
    const health = (await (
      await fetch(`${grant.instanceUrl}/healthz`, { headers: { authorization: `Bearer ${grant.token}` } })
    ).json()) as any;
    expect(health.counts.documents).toBe(1_000);
    const search = await api(url, "POST", "/search", {
      token: key,
      body: { query: "item 500 of the catalogue", nResults: 5, where: { index: 500 } },
    });
    expect(search.body.results.map((hit: { id: string }) => hit.id)).toEqual([`${documentId}:500`]);
  }, 300_000); // two control-plane starts and 1,000 real embeddings; each wait above has its own deadline
});
