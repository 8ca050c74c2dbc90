import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../config";
import { testStoreKind } from "../../testing";
import { openStore, type Store } from "./client";
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

  it("opens as it was left, with nothing to create, and Postgres's own buffer pool", async () => {
    const store = await openStore({ dataDir });
    try {
      expect(await sharedBuffers(store)).toBe("128MB");
    } finally {
      await store.close();
    }
  });

  it("opens with the buffer pool it is given (PGLITE_SHARED_BUFFERS)", async () => {
    const store = await openStore({ dataDir, pgliteSharedBuffers: "16MB" });
    try {
      expect(await sharedBuffers(store)).toBe("16MB");
    } finally {
      await store.close();
    }
  });
});

describe("PGLITE_SHARED_BUFFERS", () => {
  it("is a size; anything else stops the start with the setting named", () => {
    expect(loadConfig({}).PGLITE_SHARED_BUFFERS).toBe("128MB");
    expect(loadConfig({ PGLITE_SHARED_BUFFERS: "32MB" }).PGLITE_SHARED_BUFFERS).toBe("32MB");
    for (const bad of ["32", "32 MB", "0MB", "-1MB", "32MB; drop"]) {
      expect(() => loadConfig({ PGLITE_SHARED_BUFFERS: bad })).toThrow(
        /PGLITE_SHARED_BUFFERS: a size such as 128MB/,
      );
    }
  });
});

async function sharedBuffers(store: Store): Promise<string> {
  // PGlite's driver answers `{ rows }`.
  const result = (await store.db.execute(sql`show shared_buffers`)) as unknown as {
    rows: { shared_buffers: string }[];
  };
  return result.rows[0]?.shared_buffers ?? "";
}
