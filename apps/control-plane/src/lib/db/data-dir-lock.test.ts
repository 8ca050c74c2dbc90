import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { currentProcessIdentity, processStartTicks } from "../process-identity";
import {
  acquireDataDirLock,
  DATA_DIR_LOCK_FILE,
  type DataDirLock,
  DataDirLockedError,
} from "./data-dir-lock";

// The lock itself holds no store: these run once, whatever store the project tests.
const dirs: string[] = [];
const locks: DataDirLock[] = [];
afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "vdb-lock-"));
  dirs.push(dir);
  return dir;
}

function acquire(dir: string): DataDirLock {
  const lock = acquireDataDirLock(dir);
  locks.push(lock);
  return lock;
}

function writeLock(dir: string, record: Record<string, unknown>): void {
  writeFileSync(
    path.join(dir, DATA_DIR_LOCK_FILE),
    JSON.stringify({ startedAt: "2026-01-01T00:00:00.000Z", command: "node main.ts", nonce: "x", ...record }),
  );
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

describe("the data directory lock", () => {
  it("refuses a second holder while the first lives, naming the directory, the pid and PostgreSQL", () => {
    const dir = dataDir();
    acquire(dir);
    let refusal: unknown;
    try {
      acquire(dir);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    const message = (refusal as Error).message;
    expect(message).toContain(dir);
    expect(message).toContain(`pid ${process.pid}`);
    expect(message).toContain("DATABASE_URL=postgres://");
    // The refused attempt left nothing behind.
    expect(readdirSync(dir)).toEqual([DATA_DIR_LOCK_FILE]);
  });

  it("is free again once released, and a release removes only its own lock", () => {
    const dir = dataDir();
    const first = acquire(dir);
    first.release();
    expect(existsSync(path.join(dir, DATA_DIR_LOCK_FILE))).toBe(false);
    const second = acquire(dir);
    first.release(); // a late second release by the earlier holder must not free the new one
    expect(JSON.parse(readFileSync(second.lockFile, "utf8")).pid).toBe(process.pid);
    expect(() => acquire(dir)).toThrow(DataDirLockedError);
  });

  it("takes over a lock whose process is gone", async () => {
    const dir = dataDir();
    writeLock(dir, { ...currentProcessIdentity(), pid: await deadPid(), startTicks: null });
    const lock = acquire(dir);
    expect(JSON.parse(readFileSync(lock.lockFile, "utf8")).pid).toBe(process.pid);
    expect(readdirSync(dir)).toEqual([DATA_DIR_LOCK_FILE]);
  });

  it.runIf(processStartTicks(process.pid) !== null)(
    "takes over a lock whose pid now belongs to another process (pid reuse), or to another boot",
    () => {
      const dir = dataDir();
      const me = currentProcessIdentity();
      writeLock(dir, { ...me, startTicks: String(Number(me.startTicks) - 1) });
      acquire(dir).release();
      writeLock(dir, { ...me, bootId: "00000000-0000-0000-0000-000000000000" });
      expect(() => acquire(dir)).not.toThrow();
    },
  );

  it("takes over an unreadable lock file, and respects one held on another host", () => {
    const dir = dataDir();
    writeFileSync(path.join(dir, DATA_DIR_LOCK_FILE), "");
    acquire(dir).release();
    writeLock(dir, { ...currentProcessIdentity(), hostname: "elsewhere", pid: 1 });
    expect(() => acquire(dir)).toThrow(/pid 1 on host elsewhere/);
  });

  it("a live process holding it is respected even when its pid is not ours", async () => {
    const dir = dataDir();
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => child.once("spawn", resolve));
      writeLock(dir, {
        ...currentProcessIdentity(),
        pid: child.pid,
        startTicks: processStartTicks(child.pid!),
      });
      expect(() => acquire(dir)).toThrow(`pid ${child.pid}`);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
