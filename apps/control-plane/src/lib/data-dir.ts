import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import type { Logger } from "./logger";

/**
 * Creates DATA_DIR owner-only (0700) and takes group and other access off everything under it:
 * it holds the database, uploaded files and secrets. PGlite unpacks its initial database with
 * mode 0666 whatever the umask says, so the files are tightened after the store first opens
 * (`tightenDataDir`); later files follow the process umask (0077, set in main.ts).
 */
export function prepareDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
}

/** chmod `g-rwx,o-rwx` on the directory and every file and folder below it (symlinks left alone). */
export function tightenDataDir(dataDir: string, logger: Logger): void {
  let failures = 0;
  const visit = (entry: string) => {
    try {
      const stat = lstatSync(entry);
      if (stat.isSymbolicLink()) return;
      if ((stat.mode & 0o077) !== 0) chmodSync(entry, stat.mode & 0o700);
      if (stat.isDirectory()) for (const name of readdirSync(entry)) visit(path.join(entry, name));
    } catch {
      // A file removed while walking (a running instance's), or one this user does not own.
      failures += 1;
    }
  };
  visit(dataDir);
  if (failures > 0) logger.warn({ dataDir, failures }, "could not make some DATA_DIR entries owner-only");
}
