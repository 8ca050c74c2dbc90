import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { isPidAlive } from "@vdb/http/processes";

/**
 * Who a process is, robustly enough to recognise it later from a file: a pid alone can be
 * reused by an unrelated process after the first one died (or the machine rebooted), so the
 * kernel's start time of the process and the boot it belongs to are kept beside it (Linux
 * /proc; elsewhere only the pid and host are known and trusted).
 */
export interface ProcessIdentity {
  pid: number;
  hostname: string;
  /** /proc/<pid>/stat field 22: clock ticks after boot at which the process started. */
  startTicks: string | null;
  /** /proc/sys/kernel/random/boot_id: changes at every boot. */
  bootId: string | null;
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** A process's start time in clock ticks after boot, or null without procfs (or if it is gone). */
export function processStartTicks(pid: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (!stat) return null;
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? null; // field 22 overall; this list starts at field 3
}

export function bootId(): string | null {
  return readOrNull("/proc/sys/kernel/random/boot_id")?.trim() ?? null;
}

export function currentProcessIdentity(): ProcessIdentity {
  return {
    pid: process.pid,
    hostname: hostname(),
    startTicks: processStartTicks(process.pid),
    bootId: bootId(),
  };
}

/**
 * Whether the process `identity` names is still running. On another host nothing can be
 * checked, so it counts as running: the safe answer for a lock.
 */
export function isProcessRunning(identity: ProcessIdentity): boolean {
  if (identity.hostname !== hostname()) return true;
  const currentBoot = bootId();
  if (identity.bootId && currentBoot && identity.bootId !== currentBoot) return false;
  if (!isPidAlive(identity.pid)) return false;
  const startTicks = processStartTicks(identity.pid);
  // Same pid, started at another time: the pid was reused by a different process.
  if (identity.startTicks && startTicks && identity.startTicks !== startTicks) return false;
  return true;
}
