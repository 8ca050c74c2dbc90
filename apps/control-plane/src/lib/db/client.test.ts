import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { testStoreKind } from "../../testing";
import { openStore } from "./client";
import { tenants } from "./schema";

const MB = 1024 * 1024;
const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-store-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// A file-backed PGlite store (the platform's default): runs once, whatever store the project tests.
describe.runIf(testStoreKind() === "pglite")("a PGlite store in a new data directory", () => {
  it("is created in a child process: this process never holds initdb's ~630 MB of WebAssembly memory", async () => {
    const before = process.memoryUsage().external;
    const store = await openStore({ dataDir });
    try {
      // Open at PGlite's usual size (~200 MB), not initdb's; created here, it was ~630 MB.
      expect((process.memoryUsage().external - before) / MB).toBeLessThan(400);
      // Created, migrated and usable.
      const [row] = await store.db.select({ count: sql<number>`count(*)::int` }).from(tenants);
      expect(row?.count).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("opens as it was left, with nothing to create", async () => {
    const store = await openStore({ dataDir });
    try {
      await store.db.execute(sql`select 1`);
    } finally {
      await store.close();
    }
  });
});
