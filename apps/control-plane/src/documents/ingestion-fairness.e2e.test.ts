import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, tenantWithKey, trpcLiveAs, watchUntil } from "../testing/http";

/** A's backlog: under first-come-first-served, B's one document would wait behind every one. */
const BACKLOG = 40;

let server: TestServer;
let a: { tenantId: string; key: string };
let b: { tenantId: string; key: string };

beforeAll(async () => {
  // One worker slot: fairness must come from the order of claims, not from spare workers.
  server = await startTestServer({ env: { WORKER_CONCURRENCY: "1" } });
  const live = trpcLiveAs(server.url, server.adminToken);
  a = await tenantWithKey(server.url, server.adminToken, "busy");
  b = await tenantWithKey(server.url, server.adminToken, "small");
  for (const { tenantId } of [a, b]) {
    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
    await watchUntil(live, tenantId, (instance) => instance?.state === "running");
  }
}, 180_000); // a loaded, shared machine starts slowly
afterAll(async () => server?.close());

const textOf = (n: number) =>
  Array.from({ length: 30 }, (_, i) => `Backlog report ${n}, part ${i}: crates counted and shelved.`).join(
    "\n\n",
  );

describe("fair ingestion across tenants", () => {
  it("a tenant's one document is ready while most of another tenant's earlier backlog still waits", async () => {
    const post = (n: number) =>
      api(server.url, "POST", "/docs", {
        token: a.key,
        body: { title: `Backlog ${n}`, text: textOf(n), chunkSize: 50, chunkOverlap: 0 },
      });
    for (let start = 0; start < BACKLOG; start += 10) {
      const created = await Promise.all(Array.from({ length: 10 }, (_, i) => post(start + i)));
      expect(created.map((response) => response.status)).toEqual(Array(10).fill(201));
    }
    const listA = async () =>
      (await api(server.url, "GET", `/tenants/${a.tenantId}/documents?limit=100`, { token: a.key })).body
        .items as { status: string }[];
    const readyBefore = (await listA()).filter((doc) => doc.status === "ready").length;
    expect(readyBefore).toBeLessThan(BACKLOG - 10); // a backlog, for real
    const single = await api(server.url, "POST", "/docs", {
      token: b.key,
      body: { title: "Urgent", text: "One short document from the small tenant." },
    });
    expect(single.status).toBe(201);

    const deadline = Date.now() + 120_000;
    for (;;) {
      const doc = await api(server.url, "GET", `/tenants/${b.tenantId}/documents/${single.body.id}`, {
        token: b.key,
      });
      if (doc.body.status === "ready") break;
      expect(doc.body.status).not.toBe("failed");
      if (Date.now() > deadline)
        throw new Error(`B's document never became ready: ${JSON.stringify(doc.body)}`);
      await sleep(50);
    }
    // B took the next turn after the document A had running (one more may have started while
    // B's was being posted); first-come-first-served would have run all of A's first.
    const readyAfter = (await listA()).filter((doc) => doc.status === "ready").length;
    expect(readyAfter).toBeLessThanOrEqual(readyBefore + 2);

    const status = await api(server.url, "GET", `/tenants/${a.tenantId}/ingestion`, { token: a.key });
    expect(status.body.depth).toBeGreaterThan(0);
  });
});
