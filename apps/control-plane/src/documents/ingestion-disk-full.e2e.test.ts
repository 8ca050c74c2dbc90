import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, tenantWithKey, trpcLiveAs, until, watchUntil } from "../testing/http";
import { reconcileIngestions } from "./reconcile-ingestions";

/**
 * A real full disk: DATA_DIR (the blob store, the instance and its Chroma) on a small tmpfs,
 * filled up. Mounting needs root, as CI runs; elsewhere the test says why it did not run.
 */
const mountPoint = mkdtempSync(path.join(tmpdir(), "vdb-full-"));
/** Why the tmpfs could not be mounted (not root, no `mount`), or null when it is mounted. */
const cannotMount = (() => {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=96m", "tmpfs", mountPoint], { stdio: "pipe" });
    return null;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
    return stderr || (error as Error).message;
  }
})();
const canMount = cannotMount === null;
if (!canMount) {
  // Said where a reader of the test output sees it, not only as a skipped test.
  console.warn(
    `ingestion-disk-full: SKIPPED, could not mount a tmpfs (needs root, as CI runs): ${cannotMount}`,
  );
}
const FILLER = path.join(mountPoint, "filler");

/** Writes until the disk refuses: ENOSPC from here on, for every writer on it. */
function fillDisk(): void {
  const fd = openSync(FILLER, "w");
  const block = Buffer.alloc(1024 * 1024, 7);
  try {
    for (const size of [block.length, 4_096, 1]) {
      try {
        for (;;) writeSync(fd, block.subarray(0, size));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

let server: TestServer;
let live: ReturnType<typeof trpcLiveAs>;
let tenantId: string;
let key: string;

const getDoc = (id: string) => api(server.url, "GET", `/tenants/${tenantId}/documents/${id}`, { token: key });
const settled = (id: string) =>
  until(
    `document ${id} settled`,
    async () => (await getDoc(id)).body,
    (doc) => doc.status === "ready" || doc.status === "failed",
  );
const reingest = (id: string) =>
  api(server.url, "POST", `/tenants/${tenantId}/documents/${id}/ingest`, { token: key });

/**
 * How many records the tenant's Chroma holds for a document: a search filtered to it, all hits.
 * Asked again, as a client would, while the instance is restarting (503) after the disk was full.
 */
async function chunksInChroma(documentId: string): Promise<number> {
  const found = await until(
    `search for ${documentId}`,
    () =>
      api(server.url, "POST", "/search", {
        token: key,
        body: { query: "storage", nResults: 1_000, where: { documentId } },
      }),
    (response) => response.status !== 503,
  );
  expect(found.status, JSON.stringify(found.body)).toBe(200);
  return found.body.results.length;
}

beforeAll(async () => {
  if (!canMount) return;
  // The store in memory, not in DATA_DIR: what fills up here is the blobs and the instance's disk.
  server = await startTestServer({ databaseUrl: "memory://", env: { DATA_DIR: mountPoint } });
  live = trpcLiveAs(server.url, server.adminToken);
  ({ tenantId, key } = await tenantWithKey(server.url, server.adminToken, "full"));
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await watchUntil(live, tenantId, (instance) => instance?.state === "running");
}, 300_000);
afterAll(async () => {
  await server?.close();
  if (canMount) execFileSync("umount", ["-l", mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

describe("a full disk (tmpfs DATA_DIR; needs root to mount)", () => {
  it("refuses uploads (text and streamed files) with 507, fails the document it hits with its reason, leaves no chunk of it in Chroma, and recovers once space returns", async (context) => {
    if (!canMount) context.skip(`could not mount a tmpfs (needs root, as CI runs): ${cannotMount}`);
    const ids: string[] = [];
    for (const title of ["Alpha", "Beta"]) {
      const created = await api(server.url, "POST", "/docs", {
        token: key,
        body: { title, text: `${title} section about storage. `.repeat(120), chunkSize: 50, chunkOverlap: 0 },
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    for (const id of ids) expect(await settled(id)).toMatchObject({ status: "ready" });
    const readyCounts = await Promise.all(
      ids.map(async (id) => (await getDoc(id)).body.chunkCount as number),
    );
    for (const [i, id] of ids.entries()) expect(await chunksInChroma(id)).toBe(readyCounts[i]);

    fillDisk();

    // A new document's bytes cannot be stored: a clear 507, and nothing half-made.
    const refused = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "Gamma", text: "no room" },
    });
    expect(refused.status).toBe(507);
    expect(refused.body.error.code).toBe("STORAGE_FULL");
    expect(refused.body.error.message).toMatch(/storage is full.*frees space/);
    const form = new FormData();
    form.append("file", new File(["no room either ".repeat(1_000)], "delta.txt", { type: "text/plain" }));
    const streamed = await fetch(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(streamed.status).toBe(507);
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe("STORAGE_FULL");
    const listed = await api(server.url, "GET", `/tenants/${tenantId}/documents`, { token: key });
    expect(listed.body.items.map((doc: { title: string }) => doc.title).sort()).toEqual(["Alpha", "Beta"]);

    // Re-ingesting runs into Chroma's full disk. The document that hits it fails, saying why; a
    // full disk also fails the instance's health checks, and documents that find it down wait.
    for (const id of ids) expect((await reingest(id)).status).toBe(200);
    const outcomes = await Promise.all(
      ids.map((id) =>
        until(
          `document ${id} failed or waiting`,
          async () => (await getDoc(id)).body,
          (doc) => doc.status === "failed" || /^waiting: /.test(doc.failureReason ?? ""),
        ),
      ),
    );
    for (const doc of outcomes) {
      if (doc.status === "failed")
        expect(doc.failureReason).toMatch(
          /(disk|storage) is full.*Re-ingest the document once space is freed/,
        );
      else expect(doc.status).toBe("queued");
    }
    const failedIds = outcomes.filter((doc) => doc.status === "failed").map((doc) => doc.id as string);
    expect(failedIds.length).toBeGreaterThan(0);
    // Reads go on while the disk is full: the instance (whose own log file is on that disk too)
    // answers at once rather than hang on a write it cannot make.
    const searched = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "storage", nResults: 5 },
    });
    expect(searched.status, JSON.stringify(searched.body)).toBe(200);
    expect(searched.body.results.length).toBeGreaterThan(0);

    // Space returns: what is searchable matches what is ready (failed: nothing), waiting
    // documents go on by themselves, failed ones recover by re-ingest.
    rmSync(FILLER);
    await watchUntil(live, tenantId, (instance) => instance?.state === "running");
    // Reconciliation (every 30 s, or on demand as here) removes them once the instance answers.
    for (const id of failedIds) {
      const purged = await until(
        `failed document ${id} purged`,
        async () => {
          await reconcileIngestions(server.services, { tenantId });
          return (await getDoc(id)).body;
        },
        (doc) => doc.chunkCount === 0,
      );
      expect(purged).toMatchObject({ status: "failed", chunkCount: 0, chunks: [] });
      expect(await chunksInChroma(id)).toBe(0);
    }
    for (const id of failedIds) expect((await reingest(id)).status).toBe(200);
    for (const [i, id] of ids.entries()) {
      expect(await settled(id)).toMatchObject({
        status: "ready",
        chunkCount: readyCounts[i],
        failureReason: null,
      });
      expect(await chunksInChroma(id)).toBe(readyCounts[i]);
    }
    const accepted = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "Gamma", text: "room" },
    });
    expect(accepted.status).toBe(201);
    expect(await settled(accepted.body.id)).toMatchObject({ status: "ready" });
  }, 300_000);
});
