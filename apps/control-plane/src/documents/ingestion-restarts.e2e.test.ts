import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestDatabase, dropTestDatabase, testStoreKind } from "../testing";
import { api, tenantWithKey } from "../testing/http";
import { type ControlPlaneProcess, freePort, startControlPlaneProcess } from "../testing/process";

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: gave up; last ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

type Listed = { id: string; status: string; chunkCount: number; failureReason: string | null };

const DOCUMENTS = 60;
/** A start (PGlite, migrations, tsx) takes a few seconds alone, far longer on a shared, loaded machine. */
const START_TIMEOUT_MS = 240_000;
/** About 6 chunks of 50 tokens each. */
const textOf = (n: number) =>
  Array.from(
    { length: 8 },
    (_, i) =>
      `Report ${n}, section ${i}: the shipment of part ${n * 100 + i} left the warehouse on day ${i}.`,
  ).join("\n\n");

describe("a backlog of accepted documents across restarts of the control plane", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-restarts-"));
  let databaseUrl = "";
  let env: Record<string, string>;
  let plane: ControlPlaneProcess | null = null;

  beforeAll(async () => {
    if (testStoreKind() === "postgres") databaseUrl = await createTestDatabase("postgres");
    env = {
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      PORT: String(await freePort()),
      VDB_ADMIN_EMAIL: ADMIN_EMAIL,
      VDB_ADMIN_PASSWORD: ADMIN_PASSWORD,
      INSTANCE_MODEL: "hash",
      INSTANCE_DIMENSION: "64",
      RECONCILE_INTERVAL_MS: "200",
      JOB_LEASE_MS: "2000",
      // Each restart also stops and restarts the tenant's instance: the outage the jobs must wait out.
      STOP_INSTANCES_ON_EXIT: "true",
    };
  });
  afterAll(async () => {
    await plane?.stop();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("survives three restarts: every document ready, each with as many chunks as Chroma holds for it", async () => {
    plane = await startControlPlaneProcess(env, START_TIMEOUT_MS);
    const url = plane.url;
    const token = (
      await api(url, "POST", "/auth/login", { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })
    ).body.token;
    const { tenantId, key } = await tenantWithKey(url, token, "backlog");
    await api(url, "POST", "/launch", { token, body: { tenantId } });
    await until(
      "instance running",
      () => api(url, "GET", `/status/${tenantId}`, { token }),
      (r) => r.body.state === "running",
    );

    for (let n = 0; n < DOCUMENTS; n++) {
      const created = await api(url, "POST", "/docs", {
        token: key,
        body: { title: `Report ${n}`, text: textOf(n), chunkSize: 50, chunkOverlap: 0 },
      });
      expect(created.status).toBe(201);
    }
    const list = async () => {
      try {
        return (await api(url, "GET", `/tenants/${tenantId}/documents?limit=100`, { token: key })).body
          .items as Listed[];
      } catch (error) {
        const exited = plane?.child.exitCode;
        throw new Error(
          `listing failed (control plane exit code ${exited}):\n${plane?.output().slice(-4000)}`,
          {
            cause: error,
          },
        );
      }
    };

    // The first restart while work is under way; the next two right after a start, while the
    // instance is still coming up: jobs must wait it out rather than use attempts on it.
    const ready = await until("some progress", list, (items) => items.some((doc) => doc.status === "ready"));
    expect(ready.filter((doc) => doc.status === "ready").length).toBeLessThan(DOCUMENTS); // a backlog, for real
    for (let restart = 1; restart <= 3; restart++) {
      await plane.stop();
      plane = await startControlPlaneProcess(env, START_TIMEOUT_MS);
    }

    const settled = await until(
      "every document settled",
      list,
      (items) => items.every((doc) => doc.status === "ready" || doc.status === "failed"),
      240_000,
    );
    expect(settled.filter((doc) => doc.status !== "ready")).toEqual([]);
    expect(settled).toHaveLength(DOCUMENTS);

    // Counted in the tenant's Chroma: per document a search filtered to it (every hit), and in all.
    for (const doc of settled) {
      const found = await api(url, "POST", "/search", {
        token: key,
        body: { query: "shipment", nResults: 1_000, where: { documentId: doc.id } },
      });
      expect({ id: doc.id, chunks: found.body.results.length }).toEqual({
        id: doc.id,
        chunks: doc.chunkCount,
      });
      expect(doc.chunkCount).toBeGreaterThan(1);
    }
    const { body: grant } = await api(url, "POST", "/generate-token", { token: key, body: { tenantId } });
    const health = (await (
      await fetch(`${grant.instanceUrl}/healthz`, { headers: { authorization: `Bearer ${grant.token}` } })
    ).json()) as {
      counts: { documents: number };
    };
    expect(health.counts.documents).toBe(settled.reduce((total, doc) => total + doc.chunkCount, 0));
  }, 900_000); // four control-plane starts on a shared machine; each wait above has its own deadline
});
