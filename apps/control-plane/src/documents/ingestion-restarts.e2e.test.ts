import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ChromaClient } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestDatabase, dropTestDatabase, testStoreKind } from "../testing";
import { api } from "../testing/http";
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

const DOCUMENTS = 24;
/** A start (PGlite, migrations, tsx) takes a few seconds alone, far longer on a shared, loaded machine. */
const START_TIMEOUT_MS = 120_000;
/** About 6 chunks of 50 tokens each: with the real model, the backlog takes a while to drain. */
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
      INSTANCE_MODEL: "use-lite",
      INSTANCE_DIMENSION: "512",
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
    const tenantId = (
      await api(url, "POST", "/tenants", { token, body: { slug: "backlog", name: "Backlog", plan: "pro" } })
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

    let readyBefore = 0;
    for (let restart = 1; restart <= 3; restart++) {
      // Restart while work is under way: after at least one more document became ready.
      const docs = await until(
        `progress before restart ${restart}`,
        list,
        (items) => items.filter((doc) => doc.status === "ready").length > readyBefore,
      );
      readyBefore = docs.filter((doc) => doc.status === "ready").length;
      if (restart === 1) expect(readyBefore).toBeLessThan(DOCUMENTS); // a backlog, for real
      await plane.stop();
      process.stderr.write(
        `--- before restart ${restart} (${readyBefore} ready):\n${plane.output().slice(-3000)}\n`,
      );
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

    const { hostname, port } = new URL(url);
    const chroma = new ChromaClient({
      host: hostname,
      port: Number(port),
      headers: { "x-chroma-token": key },
    });
    const collection = await chroma.getCollection({ name: "default" });
    for (const doc of settled) {
      const stored = await collection.get({ where: { documentId: doc.id }, include: [] });
      expect({ id: doc.id, chunks: stored.ids.length }).toEqual({ id: doc.id, chunks: doc.chunkCount });
      expect(doc.chunkCount).toBeGreaterThan(1);
    }
    expect(await collection.count()).toBe(settled.reduce((total, doc) => total + doc.chunkCount, 0));
  }, 600_000); // four control-plane starts and 400 real embeddings; each wait above has its own deadline
});
