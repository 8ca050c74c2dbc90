import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { migrationsFolder, openStore, type Store } from "../lib/db/client";

/**
 * An in-memory PGlite's data directory with every migration applied, made once per set of
 * migrations and kept in the system's temporary directory for every test process after it:
 * loading it takes ~1 s where initdb and the migrations take ~3 s, and the control plane's
 * suites open a store in nearly every file, twice over (bench: the PGlite project's ~85 files).
 * The file's name holds a hash of the migrations, so a new migration makes a new template;
 * it is written under another name and renamed, so a reader never sees half of one.
 */
export async function pgliteTemplate(): Promise<Blob> {
  return new Blob([await readFile(await pgliteTemplateFile())]);
}

/** The template's file (an uncompressed tar of the data directory), made first if missing. */
async function pgliteTemplateFile(): Promise<string> {
  const file = path.join(tmpdir(), "vdb-test-pglite", `migrated-${templateHash()}.tar`);
  if (existsSync(file)) return file;
  const client = new PGlite();
  try {
    await migrate(drizzle({ client }), { migrationsFolder: migrationsFolder() });
    const dump = await client.dumpDataDir("none");
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, file);
    return file;
  } finally {
    await client.close();
  }
}

/**
 * Seeds the PGlite store a control-plane process will open in `dataDir` from the template, when
 * it has none yet: the process then finds a migrated store where it would have run initdb (~4 s
 * of CPU alone, in a child process) and every migration. A process on PostgreSQL
 * (`databaseUrl` set) or on an existing store is left as it is.
 */
export async function seedPgliteDataDir(dataDir: string, databaseUrl: string | undefined): Promise<void> {
  if (databaseUrl) return;
  const dataPath = path.join(dataDir, "pglite");
  if (existsSync(path.join(dataPath, "PG_VERSION"))) return;
  const file = await pgliteTemplateFile();
  await mkdir(dataPath, { recursive: true });
  // The dump's entries are absolute (`/base/…`): tar strips the leading slash.
  await promisify(execFile)("tar", ["-xf", file, "-C", dataPath]);
}

/** A hash of every migration file's name and content, and of the PGlite release that dumps it. */
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

/** `openStore` for tests: a new PGlite store starts from the migrated template. */
export async function openTestStore(opts: { databaseUrl: string; dataDir: string }): Promise<Store> {
  return openStore({ ...opts, pgliteTemplate });
}
