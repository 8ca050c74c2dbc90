import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { bindError, isPidAlive as isAlive } from "@vdb/http/processes";
import { INSTANCE_DIR, type InstanceEntry, instanceEntry, instanceScripts } from "@vdb/instance/entry";
import type { Logger } from "../lib/logger";
import { checkInstanceId } from "./pools";
import {
  type InstanceHandle,
  type InstanceRuntime,
  type InstanceSpec,
  type ObservedState,
  RetryableRuntimeError,
} from "./runtime";

interface PidFile {
  tenantId: string;
  pid: number;
  port: number;
  startedAt: string;
}

const PID_FILE = "instance.json";
const NOT_RUNNING = "the instance process is not running";
const STOP_GRACE_MS = 10_000;
/**
 * A probe whose timeout fired this much later than asked was held up by this process (its event
 * loop was blocked): its failure says nothing about the instance.
 */
const STALL_SLACK_MS = 1_000;
/**
 * How often re-adopted processes are checked for life. They are not our children, so their exit
 * is no event: without this, a crash would wait for the next sweep (RECONCILE_INTERVAL_MS).
 */
const ADOPTED_WATCH_MS = 250;

/**
 * Whether `pid` is one of our instance processes. A pid file can outlive its process (a reboot)
 * and the pid be reused by something else, which we must never adopt, signal or count.
 */
function isInstanceProcess(pid: number, scripts: string[]): boolean {
  if (!isAlive(pid)) return false;
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync("/proc/self/cmdline")) return true; // no procfs: trust the pid file
  try {
    const args = readFileSync(cmdline, "utf8").split("\0");
    return scripts.some((script) => args.includes(script));
  } catch {
    return false;
  }
}

/**
 * Instances as child processes of this machine, one data dir each under
 * `dataDir/<tenantId>`. Processes are detached (their own process group) and recorded in a
 * pid file, so a control plane that crashed finds and re-adopts them instead of starting twins.
 */
export class LocalRuntime implements InstanceRuntime {
  readonly kind = "local" as const;
  /** The compiled build when it is current, else the source through tsx (see instanceEntry). */
  private readonly entry: InstanceEntry;
  /** Scripts an instance of ours runs, compiled or not (one re-adopted may predate a build). */
  private readonly instanceScripts: string[];
  private readonly reserved = new Set<number>();
  private starting: Promise<unknown> = Promise.resolve();
  private readonly exitListeners = new Set<(tenantId: string) => void>();
  /** How each process this runtime started ends, by pid: the reason a crash is recorded with. */
  private readonly exits = new Map<number, Promise<string>>();
  /** Processes found running that this runtime did not start (re-adopted), by pid: their tenant. */
  private readonly adopted = new Map<number, string>();
  private adoptedWatch: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: {
      dataDir: string;
      ports: [number, number];
      logger: Logger;
      /** How long a health probe waits for an answer (tolerant: a busy instance answers late). */
      probeTimeoutMs?: number;
    },
  ) {
    this.entry = instanceEntry();
    this.instanceScripts = instanceScripts();
    opts.logger.info(
      { script: this.entry.script, isCompiled: this.entry.isCompiled },
      this.entry.isCompiled
        ? "instances run the compiled build"
        : "instances run from source (no current build)",
    );
  }

  private tenantDir(tenantId: string): string {
    return path.join(this.opts.dataDir, checkInstanceId(tenantId));
  }

  private readPidFile(tenantId: string): PidFile | null {
    const file = path.join(this.tenantDir(tenantId), PID_FILE);
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(readFileSync(file, "utf8")) as PidFile;
    } catch {
      return null;
    }
  }

  /** A port in the range that no instance of ours holds and nothing else listens on. */
  private async allocatePort(): Promise<number> {
    const taken = new Set(this.reserved);
    for (const handle of await this.list()) {
      const port = Number(new URL(handle.url ?? "http://x:0").port);
      if (port) taken.add(port);
    }
    const [first, last] = this.opts.ports;
    for (let port = first; port <= last; port++) {
      if (taken.has(port)) continue;
      this.reserved.add(port);
      if ((await bindError(port, "127.0.0.1")) === null) return port;
      this.reserved.delete(port);
    }
    throw new RetryableRuntimeError(`no free port in ${first}-${last} for a new instance`, 10_000);
  }

  /**
   * Starts one at a time: a port is free until its pid file names it, so two starts picking
   * ports at once could pick the same one.
   */
  start(spec: InstanceSpec): Promise<InstanceHandle> {
    const started = this.starting.then(() => this.startNow(spec));
    this.starting = started.catch(() => undefined);
    return started;
  }

  private async startNow(spec: InstanceSpec): Promise<InstanceHandle> {
    const dir = this.tenantDir(spec.tenantId);
    mkdirSync(dir, { recursive: true });
    const port = await this.allocatePort();
    const log = openSync(path.join(dir, "instance.log"), "a");
    try {
      const child = spawn(process.execPath, this.entry.args, {
        cwd: INSTANCE_DIR,
        env: {
          ...process.env,
          ...spec.env,
          PORT: String(port),
          HOST: "127.0.0.1",
          DATA_DIR: dir,
          CHROMA_URL: "",
        },
        detached: true,
        stdio: ["ignore", log, log],
      });
      child.unref();
      if (!child.pid) throw new Error("the instance process did not start");
      const pid = child.pid;
      // Noticed at once, not at the next sweep: the reconciler restarts a crash right away.
      this.exits.set(
        pid,
        new Promise((resolve) => {
          child.once("exit", (code, signal) => {
            resolve(
              signal
                ? `the instance process was killed (${signal})`
                : `the instance process exited with code ${code}`,
            );
            for (const listener of this.exitListeners) listener(spec.tenantId);
            // Kept for the next observe() only; one that never comes (a stop we asked for) lets it go.
            setTimeout(() => this.exits.delete(pid), 60_000).unref();
          });
        }),
      );
      const record: PidFile = {
        tenantId: spec.tenantId,
        pid: child.pid,
        port,
        startedAt: new Date().toISOString(),
      };
      writeFileSync(path.join(dir, PID_FILE), JSON.stringify(record));
      this.opts.logger.info({ tenantId: spec.tenantId, pid: child.pid, port }, "instance process started");
      return { ref: String(child.pid), url: `http://127.0.0.1:${port}` };
    } finally {
      closeSync(log);
      this.reserved.delete(port);
    }
  }

  onExit(listener: (tenantId: string) => void): void {
    this.exitListeners.add(listener);
  }

  /** Reports the exit of a re-adopted process as a child's is reported (a signal-0 check each time). */
  private watchAdopted(pid: number, tenantId: string): void {
    if (this.exits.has(pid) || this.adopted.has(pid)) return;
    this.adopted.set(pid, tenantId);
    this.adoptedWatch ??= setInterval(() => {
      for (const [watched, tenant] of this.adopted) {
        if (isAlive(watched)) continue;
        this.adopted.delete(watched);
        for (const listener of this.exitListeners) listener(tenant);
      }
      if (this.adopted.size === 0 && this.adoptedWatch) {
        clearInterval(this.adoptedWatch);
        this.adoptedWatch = null;
      }
    }, ADOPTED_WATCH_MS);
    this.adoptedWatch.unref();
  }

  async observe(handle: InstanceHandle, tenantId: string): Promise<ObservedState> {
    const pid = Number(handle.ref);
    if (!isInstanceProcess(pid, this.instanceScripts)) {
      // A child of ours that died is reported by its exit event an instant later (when Node
      // reaps it); re-adopted processes are not our children and tell nothing.
      const exited = this.exits.get(pid);
      this.exits.delete(pid);
      const reason = exited
        ? await Promise.race([
            exited,
            new Promise<string>((resolve) => setTimeout(resolve, 1_000, NOT_RUNNING)),
          ])
        : NOT_RUNNING;
      return { state: "stopped", reason };
    }
    if (!handle.url) return { state: "starting", url: null };
    const timeoutMs = this.opts.probeTimeoutMs ?? 10_000;
    const sentAt = performance.now();
    let reason: string;
    try {
      // `?tenant=`: a 200 only from this tenant's instance (404 from another process on a reused
      // port); without a token /healthz says only `status`.
      const response = await fetch(`${handle.url}/healthz?tenant=${encodeURIComponent(tenantId)}`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      const health = (await response.json().catch(() => null)) as { status?: string } | null;
      if (response.ok && health?.status === "ok") return { state: "running", url: handle.url };
      reason =
        response.status === 404
          ? "another instance answers at its address"
          : `its health check answered ${response.status}${health?.status ? ` (${health.status})` : ""}`;
    } catch (error) {
      const elapsed = performance.now() - sentAt;
      const timedOut = (error as Error).name === "TimeoutError";
      if (timedOut && elapsed > timeoutMs + STALL_SLACK_MS) {
        return { state: "unresponsive", url: handle.url, reason: "probe held up here", stalled: true };
      }
      reason = timedOut
        ? `no answer to its health check within ${timeoutMs} ms`
        : "its health check was refused";
    }
    return { state: "unresponsive", url: handle.url, reason, stalled: false };
  }

  async stop(handle: InstanceHandle, opts: { force?: boolean } = {}): Promise<void> {
    const pid = Number(handle.ref);
    if (!isInstanceProcess(pid, this.instanceScripts)) return;
    // The instance is its own process group's leader: signal the group, so its Chroma goes too.
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-pid, name);
      } catch {
        try {
          process.kill(pid, name);
        } catch {
          // already gone
        }
      }
    };
    // A hung instance would not heed SIGTERM (and a stopped one could not): it goes at once.
    signal(opts.force ? "SIGKILL" : "SIGTERM");
    const deadline = Date.now() + STOP_GRACE_MS;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (isAlive(pid)) {
      this.opts.logger.warn({ pid }, "instance ignored SIGTERM; killing it");
      signal("SIGKILL");
    }
  }

  async destroyData(tenantId: string): Promise<void> {
    rmSync(this.tenantDir(tenantId), { recursive: true, force: true });
  }

  async list(): Promise<(InstanceHandle & { tenantId: string })[]> {
    if (!existsSync(this.opts.dataDir)) return [];
    const found: (InstanceHandle & { tenantId: string })[] = [];
    for (const entry of readdirSync(this.opts.dataDir)) {
      if (!entry.startsWith("ten_") && !entry.startsWith("pol_")) continue;
      const record = this.readPidFile(entry);
      if (record && isInstanceProcess(record.pid, this.instanceScripts)) {
        this.watchAdopted(record.pid, record.tenantId);
        found.push({
          tenantId: record.tenantId,
          ref: String(record.pid),
          url: `http://127.0.0.1:${record.port}`,
        });
      }
    }
    return found;
  }
}
