import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { newId } from "@vdb/schemas/ids";
import { asc, eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Store } from "../lib/db/client";
import { tenants, usageEvents } from "../lib/db/schema";
import { createTestDatabase, dropTestDatabase } from "../testing";
import { openTestStore } from "../testing/pglite-template";
import { recordUsage, UsageRecorder, type UsageRecorderOptions } from "./record-usage";

let databaseUrl: string;
let dataDir: string;
let store: Store;
const recorders: UsageRecorder[] = [];

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), "vdb-usage-"));
  store = await openTestStore({ databaseUrl, dataDir });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(recorders.splice(0).map((recorder) => recorder.stop()));
});
afterAll(async () => {
  await store?.close();
  await dropTestDatabase(databaseUrl);
  rmSync(dataDir, { recursive: true, force: true });
});

async function newTenant(): Promise<string> {
  const id = newId("tenant");
  await store.db.insert(tenants).values({ id, slug: id.replace("_", "-"), name: id, plan: "starter" });
  return id;
}

function eventsOf(tenantId: string) {
  return store.db
    .select()
    .from(usageEvents)
    .where(eq(usageEvents.tenantId, tenantId))
    .orderBy(asc(usageEvents.createdAt), asc(usageEvents.kind));
}

/** A recorder whose log lines are kept, to read what it reported. */
function newRecorder(opts: Partial<UsageRecorderOptions> = {}) {
  const lines: { level: number; msg: string; events?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  // A long interval: tests flush by hand unless they say otherwise.
  const recorder = new UsageRecorder({ db: store.db, logger, flushIntervalMs: 60_000, ...opts });
  recorders.push(recorder);
  return { recorder, lines };
}

describe("recordUsage", () => {
  it("stores each event with its tenant, kind, quantity, metadata and time; skips zeros", async () => {
    const tenantId = await newTenant();
    await recordUsage(store.db, { tenantId, kind: "search", quantity: 1 });
    await recordUsage(store.db, [
      {
        tenantId,
        kind: "ingest.tokens",
        quantity: 3_400,
        metadata: { documentId: "doc_1" },
        at: new Date("2025-01-01T00:00:00Z"),
      },
      { tenantId, kind: "ingest.documents", quantity: 0 },
    ]);
    const rows = await eventsOf(tenantId);
    expect(rows.map(({ kind, quantity, metadata }) => ({ kind, quantity, metadata }))).toEqual([
      { kind: "ingest.tokens", quantity: 3_400, metadata: { documentId: "doc_1" } },
      { kind: "search", quantity: 1, metadata: {} },
    ]);
    expect(rows[0]?.createdAt.toISOString()).toBe("2025-01-01T00:00:00.000Z");
    expect(rows[0]?.id).toMatch(/^use_/);
  });

  it("refuses quantities that are not whole numbers an integer column holds", async () => {
    const tenantId = await newTenant();
    for (const quantity of [-1, 1.5, Number.NaN, 2 ** 31]) {
      await expect(recordUsage(store.db, { tenantId, kind: "search", quantity })).rejects.toThrow(RangeError);
    }
    const { recorder } = newRecorder();
    expect(() => recorder.record({ tenantId, kind: "search", quantity: -1 })).toThrow(RangeError);
    expect(await eventsOf(tenantId)).toEqual([]);
  });
});

describe("UsageRecorder", () => {
  it("writes a burst of events in one INSERT, merging those without metadata", async () => {
    const [a, b] = [await newTenant(), await newTenant()];
    const { recorder } = newRecorder();
    for (let i = 0; i < 100; i++) recorder.record({ tenantId: a, kind: "search", quantity: 1 });
    for (let i = 0; i < 30; i++) recorder.record({ tenantId: b, kind: "search", quantity: 1 });
    recorder.record({ tenantId: a, kind: "chat", quantity: 1 });
    for (let i = 0; i < 3; i++)
      recorder.record({ tenantId: a, kind: "chat", quantity: 1, metadata: { turn: i } });
    expect(await eventsOf(a)).toEqual([]); // nothing written on the callers' path

    const insert = vi.spyOn(store.db, "insert");
    expect(await recorder.flush()).toBe(6);
    expect(insert).toHaveBeenCalledTimes(1);

    const rowsOfA = await eventsOf(a);
    const summed = (kind: string) =>
      rowsOfA.filter((row) => row.kind === kind).reduce((sum, row) => sum + row.quantity, 0);
    expect(summed("search")).toBe(100);
    expect(summed("chat")).toBe(4);
    expect(rowsOfA.filter((row) => row.kind === "chat").map((row) => row.metadata)).toEqual(
      expect.arrayContaining([{ turn: 0 }, { turn: 1 }, { turn: 2 }, {}]),
    );
    expect((await eventsOf(b)).map((row) => row.quantity)).toEqual([30]);
    expect(await recorder.flush()).toBe(0); // nothing left
    expect(insert).toHaveBeenCalledTimes(1);
  });

  it("keeps merged events on their own UTC day", async () => {
    const tenantId = await newTenant();
    const { recorder } = newRecorder();
    recorder.record({ tenantId, kind: "search", quantity: 1, at: new Date("2025-03-01T23:59:59.900Z") });
    recorder.record({ tenantId, kind: "search", quantity: 1, at: new Date("2025-03-02T00:00:00.100Z") });
    recorder.record({ tenantId, kind: "search", quantity: 1, at: new Date("2025-03-02T00:00:00.500Z") });
    await recorder.flush();
    const rows = await eventsOf(tenantId);
    expect(rows.map((row) => [row.createdAt.toISOString().slice(0, 10), row.quantity])).toEqual([
      ["2025-03-01", 1],
      ["2025-03-02", 2],
    ]);
  });

  it("writes what is buffered when stopped", async () => {
    const tenantId = await newTenant();
    const { recorder } = newRecorder();
    recorder.start();
    recorder.record({ tenantId, kind: "search", quantity: 5 });
    await recorder.stop();
    expect((await eventsOf(tenantId)).map((row) => row.quantity)).toEqual([5]);
  });

  it("writes every interval once started", async () => {
    const tenantId = await newTenant();
    const { recorder } = newRecorder({ flushIntervalMs: 50 });
    recorder.start();
    recorder.record({ tenantId, kind: "search", quantity: 2 });
    await vi.waitFor(async () => expect((await eventsOf(tenantId)).length).toBe(1), { timeout: 5_000 });
    recorder.record({ tenantId, kind: "search", quantity: 3 });
    await vi.waitFor(async () => expect((await eventsOf(tenantId)).length).toBe(2), { timeout: 5_000 });
  });

  it("writes early when maxBatch events are waiting", async () => {
    const tenantId = await newTenant();
    const { recorder } = newRecorder({ maxBatch: 10 });
    for (let i = 0; i < 9; i++) recorder.record({ tenantId, kind: "search", quantity: 1, metadata: { i } });
    await sleep(50);
    expect(await eventsOf(tenantId)).toEqual([]);
    recorder.record({ tenantId, kind: "search", quantity: 1, metadata: { i: 9 } });
    await vi.waitFor(async () => expect((await eventsOf(tenantId)).length).toBe(10), { timeout: 5_000 });
    expect(recorder.pending).toBe(0);
  });

  it("logs a failed write instead of throwing, and goes on with the next batch", async () => {
    const tenantId = await newTenant();
    const { recorder, lines } = newRecorder();
    // A tenant deleted since (or never there): the foreign key refuses the whole batch.
    recorder.record({ tenantId: newId("tenant"), kind: "search", quantity: 1 });
    recorder.record({ tenantId, kind: "search", quantity: 1 });
    expect(await recorder.flush()).toBe(0);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 50, events: 2, msg: expect.stringContaining("failed") }),
    );
    recorder.record({ tenantId, kind: "search", quantity: 4 });
    await recorder.stop();
    expect((await eventsOf(tenantId)).map((row) => row.quantity)).toEqual([4]);
  });
});
