import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { acquireDataDirLock, type DataDirLock } from "./data-dir-lock";
import * as schema from "./schema";

/** One Drizzle type for both stores: PGlite and PostgreSQL run the same schema and migrations. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Store {
  db: Database;
  kind: "pglite" | "postgres";
  /**
   * Tries to become the one process doing singleton work (the reconciler) and, if it does, holds
   * that role until the store closes. PGlite is one process's store: always true.
   */
  tryAcquireLeadership(): Promise<boolean>;
  close(): Promise<void>;
}

const LEADER_LOCK_ID = 7_265_002;

/** Finds `drizzle/` whether we run from `src/` (tsx, tests) or from the bundled `dist/`. */
export function migrationsFolder(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "drizzle");
    if (existsSync(path.join(candidate, "meta", "_journal.json"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("Cannot find the drizzle/ migrations folder");
    dir = parent;
  }
}

// Any constant works; it only has to be the same in every control-plane process.
const MIGRATION_LOCK_ID = 7_265_001;

/** Whether DATABASE_URL names a PostgreSQL server (anything else is PGlite: `memory://` or files). */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && (url.startsWith("postgres://") || url.startsWith("postgresql://"));
}

/**
 * Where a PGlite store for `databaseUrl` keeps its files: `dataDir/pglite`; undefined for
 * PostgreSQL and for `memory://`.
 */
export function pgliteFilesOf(databaseUrl: string | undefined, dataDir: string): string | undefined {
  return isPostgresUrl(databaseUrl) || databaseUrl === "memory://" ? undefined : path.join(dataDir, "pglite");
}

/** Whether PGlite's files are there (initdb has run in `dataPath`). */
export function hasPgliteFiles(dataPath: string): boolean {
  return existsSync(path.join(dataPath, "PG_VERSION"));
}

/**
 * Opens the store and brings its schema up to date.
 * `postgres://…` → PostgreSQL; `memory://` → in-memory PGlite; otherwise PGlite files in `dataDir/pglite`.
 */
export async function openStore(opts: {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** PGlite's `shared_buffers` (config `PGLITE_SHARED_BUFFERS`); unset: PGlite's own setting. */
  pgliteSharedBuffers?: string | undefined;
}): Promise<Store> {
  const url = opts.databaseUrl;
  if (isPostgresUrl(url)) {
    const client = postgres(url, { max: 10, onnotice: () => {} });
    const db = drizzlePostgres({ client, schema });
    // Several control planes may start at once against one database: migrate one at a time.
    const lock = await client.reserve();
    try {
      await lock`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
      await migratePostgres(db, { migrationsFolder: migrationsFolder() });
    } finally {
      await lock`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
      lock.release();
    }
    let leaderConnection: postgres.ReservedSql | null = null;
    return {
      db: db as unknown as Database,
      kind: "postgres",
      // A session-level advisory lock on a connection of its own: released when that connection
      // closes, so a crashed leader frees the role for the next process.
      async tryAcquireLeadership() {
        if (leaderConnection) return true;
        const connection = await client.reserve();
        const [row] = await connection`select pg_try_advisory_lock(${LEADER_LOCK_ID}) as locked`;
        if (row?.locked) {
          leaderConnection = connection;
          return true;
        }
        connection.release();
        return false;
      },
      async close() {
        leaderConnection?.release();
        await client.end({ timeout: 5 });
      },
    };
  }
  const dataPath = pgliteFilesOf(url, opts.dataDir);
  let lock: DataDirLock | null = null;
  if (dataPath !== undefined) {
    // PGlite is one process's store: a second process on the same files would lose writes.
    // Taken before anything is written, so a refused process leaves the directory untouched.
    lock = acquireDataDirLock(opts.dataDir);
    mkdirSync(dataPath, { recursive: true });
  }
  try {
    // Creating the database (initdb) takes PGlite's WebAssembly memory to ~630 MB, which such a
    // memory never gives back: done in this process, a platform's first run held ~450 MB more
    // than any later one (819–850 against 351–381 MB RSS, idle). A child process does it.
    if (dataPath !== undefined && !hasPgliteFiles(dataPath)) await createPgliteFiles(dataPath);
    const client = new PGlite(dataPath, {
      initialMemory: PGLITE_INITIAL_MEMORY,
      ...(opts.pgliteSharedBuffers
        ? { startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${opts.pgliteSharedBuffers}`] }
        : {}),
    });
    const db = drizzlePglite({ client, schema });
    await migratePglite(db, { migrationsFolder: migrationsFolder() });
    return {
      db: db as unknown as Database,
      kind: "pglite",
      tryAcquireLeadership: async () => true,
      async close() {
        try {
          await client.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    lock?.release();
    throw error;
  }
}

/**
 * PGlite's WebAssembly memory at the start. Its default, 128 MiB, grows to ~190 MiB while Postgres
 * starts, and each growth costs: an open took ~0.43 s of CPU instead of ~0.6 s with 192 MiB or
 * more from the start. Pages are committed as they are touched, so RSS is the same either way.
 */
const PGLITE_INITIAL_MEMORY = 256 * 1024 * 1024;

/** Run by `node --input-type=module -e`: opens (creating) a PGlite store's files, then closes. */
const CREATE_PGLITE_FILES = `
const [entry, dataPath] = process.argv.slice(1);
const { PGlite } = await import(entry);
const client = new PGlite(dataPath);
await client.waitReady;
await client.close();
`;

/** Creates an empty PGlite store in `dataPath` in a short-lived child process (see `openStore`). */
async function createPgliteFiles(dataPath: string): Promise<void> {
  const entry = pathToFileURL(createRequire(import.meta.url).resolve("@electric-sql/pglite")).href;
  try {
    await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "-e", CREATE_PGLITE_FILES, entry, dataPath],
      { maxBuffer: 1024 * 1024 },
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`Creating the PGlite store in ${dataPath} failed${stderr ? `: ${stderr}` : ""}`, {
      cause: error,
    });
  }
}

/** Cheap liveness probe for `/health`. */
export async function pingStore(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}
