import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { freePort, isPidAlive } from "@vdb/http/processes";
import type { Logger } from "./logger";

/** Chroma 1.x has no auth: it must never listen beyond loopback. */
export const CHROMA_HOST = "127.0.0.1";

export interface ChromaProcess {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the API is under `/api/v2`). */
  url: string;
  port: number;
  pid: number;
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. Safe to call twice.
   * (Whatever ends the parent process also SIGTERMs Chroma, from a `process.on("exit")` hook.)
   */
  stop(graceMs?: number): Promise<void>;
}

export interface StartChromaOptions {
  /** Chroma's persistence directory (created if missing). */
  path: string;
  /** Default: a free loopback port. */
  port?: number;
  logger?: Logger;
  /** How long to wait for the first successful heartbeat. */
  startTimeoutMs?: number;
  /**
   * How many HNSW indexes (one per collection, ~24 MB each at Chroma's 10,000 reserved slots)
   * Chroma keeps in memory; least recently used ones are dropped and reloaded from disk on their
   * next use. Unset: Chroma's own default (65,536: never drops one). Only safe for collections
   * whose index is persisted on every write (`hnsw.sync_threshold` 1, see POOL_HNSW_SYNC_THRESHOLD):
   * Chroma 1.0 reloads a dropped index from its files, which otherwise lag its write-ahead log.
   */
  hnswCacheCapacity?: number;
  /** Called when Chroma exits without `stop()` having been called. */
  onUnexpectedExit?: (exit: { code: number | null; signal: NodeJS.Signals | null; output: string }) => void;
}

/**
 * Runs `chroma run` (the CLI of the `chromadb` npm package) on loopback and resolves once its
 * heartbeat answers.
 *
 * The CLI's native server blocks its Node thread, so it ignores SIGINT (a JS handler that never
 * runs): stop it with SIGTERM. A pid file in `path` lets the next start reclaim a Chroma left
 * behind when the instance itself was SIGKILLed, so two servers never share one data directory.
 *
 * @example
 * const chroma = await startChromaProcess({ path: "./data/chroma" });
 * const client = new ChromaClient({ host: "127.0.0.1", port: chroma.port });
 * await chroma.stop();
 */
export async function startChromaProcess(options: StartChromaOptions): Promise<ChromaProcess> {
  const opts = { ...options, path: path.resolve(options.path) };
  await mkdir(opts.path, { recursive: true });
  await reclaimStaleChroma(opts.path, opts.logger);
  // A free port can be taken between probing and binding: retry a couple of times.
  const attempts = opts.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch({ ...opts, port: opts.port ?? (await freePort(CHROMA_HOST)) });
    } catch (error) {
      if (attempt >= attempts || !(error instanceof ChromaExitedError)) throw error;
      opts.logger?.warn({ err: error }, "Chroma exited while starting; retrying on another port");
    }
  }
}

class ChromaExitedError extends Error {}

const PID_FILE = "chroma.pid";
/**
 * glibc's malloc for a Chroma that drops indexes: every allocation of 128 KiB or more (an HNSW
 * index is ~24 MB) gets its own mapping, given back to the system when freed. By default glibc
 * raises that threshold after the first such free and then keeps freed indexes in its heap: a
 * bounded cache whose memory stays taken (measured, 8 indexes touched: 2 kept grew RSS by
 * 124 MB, 199 MB with all 8 kept, and 56 MB with 2 kept and this setting).
 */
const BOUNDED_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: String(128 * 1024) };

/** `chroma run <config>`'s file, when a setting has no command-line flag (the HNSW cache). */
const CONFIG_FILE = "chroma-config.yaml";

async function launch(opts: StartChromaOptions & { port: number }): Promise<ChromaProcess> {
  const cli = chromaCliPath();
  // `chroma run` takes either flags or a config file, not both.
  let args = ["run", "--path", opts.path, "--port", String(opts.port), "--host", CHROMA_HOST];
  if (opts.hnswCacheCapacity !== undefined) {
    const file = path.join(opts.path, CONFIG_FILE);
    await writeFile(file, chromaConfigYaml({ ...opts, hnswCacheCapacity: opts.hnswCacheCapacity }));
    args = ["run", file];
  }
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: opts.hnswCacheCapacity === undefined ? process.env : { ...process.env, ...BOUNDED_MALLOC_ENV },
  });
  if (child.pid === undefined) throw new Error(`Could not start Chroma (${cli})`);
  const pid = child.pid;
  let output = "";
  const remember = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", remember);
  child.stderr?.on("data", remember);

  // However this process ends (process.exit, an uncaught error, a signal handled by exiting),
  // Chroma goes with it. Only a SIGKILL of this process leaves it behind: see the pid file.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  process.once("exit", killOnExit);

  let stopping = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  void exited.then(async (exit) => {
    process.off("exit", killOnExit);
    await rm(path.join(opts.path, PID_FILE), { force: true }).catch(() => undefined);
    if (stopping) return;
    opts.logger?.error({ ...exit, pid, output: output.slice(-1_000) }, "Chroma exited unexpectedly");
    opts.onUnexpectedExit?.({ ...exit, output });
  });

  const url = `http://${CHROMA_HOST}:${opts.port}`;
  const handle: ChromaProcess = {
    url,
    port: opts.port,
    pid,
    exited,
    stop: (graceMs = 5_000) => {
      stopping = true;
      return stopChild(child, exited, graceMs);
    },
  };

  try {
    await waitForHeartbeat(url, exited, opts.startTimeoutMs ?? 30_000);
  } catch (error) {
    await handle.stop(1_000);
    const detail = output.trim().split("\n").slice(-5).join("\n");
    if (error instanceof ChromaExitedError) throw new ChromaExitedError(`${error.message}\n${detail}`);
    throw new Error(`${(error as Error).message}\n${detail}`);
  }
  await writeFile(path.join(opts.path, PID_FILE), `${pid}\n`);
  opts.logger?.info({ url, pid, path: opts.path }, "Chroma started");
  return handle;
}

/**
 * Chroma 1.0's single-node configuration (its `single_node_full.yaml` sample) with the HNSW
 * index cache bounded. `shards: 1`: the cache splits its capacity among its shards, and a small
 * capacity split that way bounds nothing (measured: 30 indexes stayed loaded with capacity 2 and
 * the default shards; with one shard, 2).
 */
export function chromaConfigYaml(opts: { path: string; port: number; hnswCacheCapacity: number }): string {
  return [
    `port: ${opts.port}`,
    `listen_address: ${JSON.stringify(CHROMA_HOST)}`,
    `persist_path: ${JSON.stringify(opts.path)}`,
    "allow_reset: false",
    "sqlitedb:",
    '  hash_type: "md5"',
    '  migration_mode: "apply"',
    "segment_manager:",
    "  hnsw_index_pool_cache_config:",
    "    memory:",
    `      capacity: ${opts.hnswCacheCapacity}`,
    "      shards: 1",
    "sysdb:",
    "  sqlite:",
    '    log_topic_namespace: "default"',
    '    log_tenant: "default"',
    "log:",
    "  sqlite:",
    '    tenant_id: "default"',
    '    topic_namespace: "default"',
    "executor:",
    "  local: {}",
    "",
  ].join("\n");
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

async function waitForHeartbeat(url: string, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited) throw new ChromaExitedError("Chroma exited before answering its heartbeat");
    try {
      const response = await fetch(`${url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Chroma did not answer ${url}/api/v2/heartbeat within ${timeoutMs} ms`);
}

/**
 * Ends a Chroma a previous run left on this data directory (its pid file names it): only the
 * SIGKILL of an instance leaves one behind, and a new instance is waiting for its data directory.
 *
 * SIGKILL, not SIGTERM: `chroma run` took 1.9 s here to exit on SIGTERM, and Chroma's local store
 * is built to survive a kill like any crash (records go to its SQLite write-ahead log before they
 * are acknowledged; an HNSW index that lags the log catches up from it on the next start).
 */
async function reclaimStaleChroma(dataDir: string, logger?: Logger): Promise<void> {
  const pidFile = path.join(dataDir, PID_FILE);
  const pid = Number.parseInt(await readFile(pidFile, "utf8").catch(() => ""), 10);
  if (!Number.isInteger(pid) || pid <= 0) return;
  // Only a process that is provably a Chroma on this directory: pids get reused.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  const args = cmdline.split("\0");
  const isOnThisDir = args.includes(dataDir) || args.includes(path.join(dataDir, CONFIG_FILE));
  if (args.includes(chromaCliPath()) && isOnThisDir) {
    logger?.warn({ pid, path: dataDir }, "killing a Chroma left over from a previous run");
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
    // The kernel frees its files and port a moment later; a zombie (its parent, our killed
    // predecessor, never reaped it) counts as gone: init reaps it.
    const deadline = Date.now() + RECLAIM_WAIT_MS;
    while (isPidAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    if (isPidAlive(pid)) throw new Error(`A Chroma (pid ${pid}) still holds ${dataDir} after SIGKILL`);
  }
  await rm(pidFile, { force: true });
}

const RECLAIM_WAIT_MS = 2_000;

/** The `chroma` CLI script of the installed `chromadb` package (its `bin`). */
export function chromaCliPath(): string {
  const require = createRequire(import.meta.url);
  // `chromadb/package.json` is not in the package's exports: find it above its entry point.
  let dir = path.dirname(require.resolve("chromadb"));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    try {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as {
        name?: string;
        bin?: Record<string, string>;
      };
      if (pkg.name === "chromadb" && pkg.bin?.chroma) return path.join(dir, pkg.bin.chroma);
    } catch {
      // no package.json at this level
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("Cannot find the chromadb package's `chroma` CLI");
    dir = parent;
  }
}
