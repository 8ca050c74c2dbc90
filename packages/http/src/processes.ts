import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * Whether a process with this pid runs (signal 0 checks without signalling). A zombie, dead
 * but not yet reaped by its parent, does not count.
 */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return true; // no /proc (not Linux): signal 0 is all there is
  }
  // Field 3, the state, follows the parenthesised command name.
  return stat.split(") ").at(-1)?.[0] !== "Z";
}

/**
 * Why `port` on `host` cannot be listened on now (EADDRINUSE, EACCES…), or null when it can; the
 * probe lets the port go at once. Port 0 (any free port) always can.
 */
export function bindError(port: number, host: string): Promise<NodeJS.ErrnoException | null> {
  if (port === 0) return Promise.resolve(null);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error));
    probe.listen(port, host, () => probe.close(() => resolve(null)));
  });
}

/** A port nobody listens on right now, on `host` (loopback by default). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
