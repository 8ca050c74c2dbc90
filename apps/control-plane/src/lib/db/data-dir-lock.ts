import { randomUUID } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { currentProcessIdentity, isProcessRunning, type ProcessIdentity } from "../process-identity";

/** The lock file, directly in DATA_DIR. */
export const DATA_DIR_LOCK_FILE = "vdb.lock";

interface LockRecord extends ProcessIdentity {
  startedAt: string;
  command: string;
  /** Tells this holding apart from any other, even by the same process. */
  nonce: string;
}

/** Raised when another live process holds the data directory; its message says what to do. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly lockFile: string,
    readonly holder: LockRecord,
  ) {
    const where = holder.hostname === currentProcessIdentity().hostname ? "" : ` on host ${holder.hostname}`;
    super(
      [
        `The data directory ${dataDir} is in use by another VDB process: pid ${holder.pid}${where}, started ${holder.startedAt} (${holder.command}).`,
        "PGlite, the embedded store, belongs to one process: stop that one first, or give this one another DATA_DIR.",
        "To run several control planes (or separate workers) on one store, use PostgreSQL: set DATABASE_URL=postgres://user:password@host:5432/vdb for every process.",
        `(Lock file: ${lockFile}. If that process is gone and the lock stays, delete the file.)`,
      ].join("\n"),
    );
    this.name = "DataDirLockedError";
  }
}

export interface DataDirLock {
  readonly lockFile: string;
  /** Gives the directory up (only if this process still holds it). Idempotent. */
  release(): void;
}

function readLock(file: string): { text: string; record: LockRecord | null } | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  try {
    const record = JSON.parse(text) as LockRecord;
    return { text, record: typeof record?.pid === "number" ? record : null };
  } catch {
    return { text, record: null };
  }
}

/**
 * Takes `dataDir` for this process alone, or throws `DataDirLockedError` naming the process
 * that has it. The lock is a file created atomically (a hard link of a complete draft, so it is
 * never seen half-written) naming its holder by pid, start time and boot: a lock left by a
 * killed process, or whose pid now belongs to another program, is taken over. It is released
 * on `release()` and when the process exits.
 *
 * A stale lock is moved aside before it is replaced, and only if it is still the one judged
 * stale; a fresh lock moved by mistake (another process took over in between) is put back.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, DATA_DIR_LOCK_FILE);
  const own: LockRecord = {
    ...currentProcessIdentity(),
    startedAt: new Date().toISOString(),
    command: process.argv.map((arg) => path.basename(arg)).join(" "),
    nonce: randomUUID(),
  };
  const ownText = JSON.stringify(own);
  const draft = `${lockFile}.${own.nonce}`;
  writeFileSync(draft, ownText);
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        linkSync(draft, lockFile);
        return holding(lockFile, ownText);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const current = readLock(lockFile);
      if (!current) continue; // released meanwhile
      if (current.record && isProcessRunning(current.record)) {
        throw new DataDirLockedError(dataDir, lockFile, current.record);
      }
      moveAsideIfUnchanged(lockFile, current.text, own.nonce);
    }
    throw new Error(`Could not lock the data directory ${dataDir}: its lock kept changing hands`);
  } finally {
    rmSync(draft, { force: true });
  }
}

function moveAsideIfUnchanged(lockFile: string, staleText: string, nonce: string): void {
  const aside = `${lockFile}.stale-${nonce}`;
  try {
    renameSync(lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (readLock(aside)?.text !== staleText) {
    // Another process took over between our read and the rename: its lock goes back.
    try {
      linkSync(aside, lockFile);
    } catch {
      // a third one holds it now; it stands
    }
  }
  rmSync(aside, { force: true });
}

function holding(lockFile: string, ownText: string): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    // Never remove a lock that is no longer ours (taken over while this process was stopped).
    if (readLock(lockFile)?.text === ownText) rmSync(lockFile, { force: true });
  };
  process.on("exit", release);
  return { lockFile, release };
}
