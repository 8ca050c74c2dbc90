import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { hasPgliteFiles, migrationsFolder, openStore, pgliteFilesOf, type Store } from "../lib/db/client";

/**
 * The buffer pool of every test store on PGlite (config `PGLITE_SHARED_BUFFERS`, default 128MB).
 * Postgres zeroes the pool when it starts: at 128MB that memset was ~0.5 s of an open's ~1 s of
 * CPU (a profile of six opens of the template), at 16MB ~0.1 s; statements took the same time
 * (a scratch workload of 6,000 inserts, updates and reads). A test's store holds a few megabytes.
 */
export const TEST_PGLITE_SHARED_BUFFERS = "16MB";

/**
 * A PGlite data directory with every migration applied and shut down cleanly, made once per set
 * of migrations and kept in the system's temporary directory for every test process after it.
 * A test's store is a copy of it in the test's DATA_DIR: opening one costs ~0.6 s of CPU, where
 * initdb and the migrations cost ~4 s and a `dumpDataDir()` tar loaded into memory ~1.6 s (PGlite
 * unpacks it file by file in JavaScript, then recovers it: a dump is taken from a running
 * database). The control plane's suites open a store in nearly every file.
 *
 * The directory's name holds a hash of the migrations, so a new migration makes a new template.
 * It is made under another name and renamed, so a reader never sees half of one. One process
 * makes it while the others wait (a suite's workers all start at once, and making it costs ~7 s
 * of CPU); a maker that died leaves a lock older than `TEMPLATE_LOCK_STALE_MS`, which the next
 * process takes over.
 */
async function pgliteTemplateDir(): Promise<string> {
  const dir = path.join(tmpdir(), "vdb-test-pglite", `migrated-${templateHash()}`);
  if (hasPgliteFiles(dir)) return dir;
  await mkdir(path.dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  while (!(await takeLock(lock))) {
    if (hasPgliteFiles(dir)) return dir;
    const since = await stat(lock).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    if (since > TEMPLATE_LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
    else await sleep(200);
  }
  try {
    if (hasPgliteFiles(dir)) return dir;
    return await makePgliteTemplate(dir);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Makes `lock` (a directory: made or refused at once, by any number of processes); false if it exists. */
async function takeLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** A maker holding the template's lock longer than this has died (making it takes seconds). */
const TEMPLATE_LOCK_STALE_MS = 120_000;

async function makePgliteTemplate(dir: string): Promise<string> {
  const partial = await mkdtemp(`${dir}.partial-`);
  try {
    // openStore creates the files (initdb, in a child process), migrates, and closes cleanly.
    const store = await openStore({
      databaseUrl: "",
      dataDir: partial,
      pgliteSharedBuffers: TEST_PGLITE_SHARED_BUFFERS,
    });
    await store.close();
    await rename(path.join(partial, "pglite"), dir).catch((error: NodeJS.ErrnoException) => {
      // Another process made it first: theirs is as good.
      if (!["ENOTEMPTY", "EEXIST"].includes(error.code ?? "")) throw error;
    });
    return dir;
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/**
 * Seeds the PGlite store a control plane will open in `dataDir` (its `pglite/` files) from the
 * template, when it has none yet: it then finds a migrated store where it would have run initdb
 * and every migration. A store on PostgreSQL (`databaseUrl` names one) or one already on disk is
 * left as it is.
 */
export async function seedPgliteDataDir(dataDir: string, databaseUrl: string | undefined): Promise<void> {
  const dataPath = pgliteFilesOf(databaseUrl, dataDir);
  if (dataPath === undefined || hasPgliteFiles(dataPath)) return;
  // `cp -a`, not fs.cp: fs.cp walks the template's ~1,100 files in JavaScript (~0.5 s of CPU and
  // over 1 s of wall time on a tmpfs), `cp` copies them in ~0.1 s.
  // `dir/.` copies the files whether or not dataPath exists yet (empty).
  const template = await pgliteTemplateDir();
  await mkdir(path.dirname(dataPath), { recursive: true });
  await promisify(execFile)("cp", ["-a", "--", `${template}/.`, dataPath]);
}

/** A hash of every migration file's name and content, and of the PGlite release that makes it. */
function templateHash(): string {
  const folder = migrationsFolder();
  const hash = createHash("sha256");
  // Its installed path names its version (node_modules/.pnpm/@electric-sql+pglite@x.y.z/…).
  hash.update(import.meta.resolve("@electric-sql/pglite"));
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
    );
  for (const file of files(folder).sort()) {
    hash.update(path.relative(folder, file));
    hash.update(readFileSync(file));
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * `openStore` for tests: PostgreSQL as given, or PGlite files in `dataDir`, a new store starting
 * from the migrated template.
 */
export async function openTestStore(opts: { databaseUrl: string; dataDir: string }): Promise<Store> {
  await seedPgliteDataDir(opts.dataDir, opts.databaseUrl);
  return openStore({ ...opts, pgliteSharedBuffers: TEST_PGLITE_SHARED_BUFFERS });
}
