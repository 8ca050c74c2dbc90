import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
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
  const file = path.join(tmpdir(), "vdb-test-pglite", `migrated-${templateHash()}.tar`);
  const kept = await readFile(file).catch(() => null);
  if (kept) return new Blob([kept]);
  const client = new PGlite();
  try {
    await migrate(drizzle({ client }), { migrationsFolder: migrationsFolder() });
    const dump = await client.dumpDataDir("none");
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, file);
    return dump;
  } finally {
    await client.close();
  }
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

/** What `openStore` (or `createServices`) is given for `databaseUrl`: the template, for an in-memory store. */
export async function templateFor(databaseUrl: string | undefined): Promise<{ pgliteTemplate?: Blob }> {
  return databaseUrl === "memory://" ? { pgliteTemplate: await pgliteTemplate() } : {};
}

/** `openStore` for tests: an in-memory store starts from the migrated template. */
export async function openTestStore(opts: { databaseUrl: string; dataDir: string }): Promise<Store> {
  return openStore({ ...opts, ...(await templateFor(opts.databaseUrl)) });
}
