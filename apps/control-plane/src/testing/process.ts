import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@vdb/http/processes";
import { CONTROL_PLANE_DIST, currentBuildOf } from "../lib/compiled-build";
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createTestDatabase,
  dropTestDatabase,
  TEST_PASSWORD_HASH_COST,
  testInstancePorts,
} from "./index";
import { seedPgliteDataDir, TEST_PGLITE_SHARED_BUFFERS } from "./pglite-template";

/** Whether a build is current, for tests that run another package's build when it is. */
export { isBuildCurrent } from "@vdb/instance/entry";
/** A free loopback port, for tests that start servers of their own. */
export { freePort };

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../main.ts");
/** The compiled build (`node build.mjs`), what `npm start` and the Docker image run. */
const COMPILED_MAIN = path.join(CONTROL_PLANE_DIST, "main.mjs");

export interface ControlPlaneProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed on stdout so far. */
  output(): string;
  /**
   * Stops it and waits for its exit. SIGTERM (a supervisor's restart) leaves its instances
   * running for the next control plane; SIGINT (Ctrl-C) stops them too.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** How a control-plane process starts (`startControlPlaneProcess`, every start of a `restartablePlane`). */
export interface StartOptions {
  /**
   * `true`: runs `dist/main.mjs` (as `npm start` and the Docker image do; build it first);
   * `false`: the sources. Unset: the build when it is current, else the sources.
   */
  compiled?: boolean;
  /** A first run's own store (initdb and every migration, in the process), not the test template. */
  initdb?: boolean;
}

function controlPlaneEnv(env: Record<string, string>, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LOG_LEVEL: "warn",
    INSTANCE_PORTS: testInstancePorts(),
    PGLITE_SHARED_BUFFERS: TEST_PGLITE_SHARED_BUFFERS,
    PASSWORD_HASH_COST: TEST_PASSWORD_HASH_COST,
    ...env,
    PORT: String(port),
  };
}

/**
 * V8 flags of the control planes tests start. Such a process lives seconds, and V8 spent ~1.1 s
 * of the ~3.2 s of CPU of its start recompiling PGlite's hot WebAssembly with TurboFan, which so
 * short a life never repays: with tier-up put out of reach, a start took ~2.1 s, and the nine
 * restart tests' files ~20 % less CPU (four runs, alternating). Production keeps V8's defaults: a
 * control plane that runs for days is better served by the optimized code. (The Vitest workers
 * keep them too: V8 tiers PGlite up once per worker, and the same flag there made no difference
 * over the whole suite, three pairs of runs.)
 */
const TEST_V8_FLAGS = ["--wasm-tiering-budget=1000000000"];

/** Starts `src/main.ts` (or the compiled `dist/main.mjs`) with its output collected. */
function spawnControlPlane(env: NodeJS.ProcessEnv, compiled?: boolean) {
  // Unset: the build when it is current (turbo builds it before the tests), else the sources.
  const main = compiled === undefined ? currentBuildOf("main") : compiled ? COMPILED_MAIN : null;
  const args = main ? [...TEST_V8_FLAGS, main] : [...TEST_V8_FLAGS, "--import", "tsx", MAIN];
  const child = spawn(process.execPath, args, {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk) => {
    output.stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output.stderr += chunk;
  });
  return { child, output };
}

/** The child processes of `pid` (Linux /proc): an instance's Chroma, say. */
export function childPidsOf(pid: number): number[] {
  const children: number[] = [];
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    const list = readFileSync(`/proc/${pid}/task/${thread}/children`, "utf8").trim();
    if (list) children.push(...list.split(" ").map(Number));
  }
  return children;
}

/** Runs `src/main.ts` expecting it to exit by itself (a refused start): its exit code and output. */
export async function runControlPlaneToExit(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { child, output } = spawnControlPlane(controlPlaneEnv(env, Number(env.PORT ?? (await freePort()))));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`still running after ${timeoutMs} ms:\n${output.stdout}\n${output.stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, ...output });
    });
  });
}

/**
 * Runs `src/main.ts` as a real process and resolves once it has printed its URL, or rejects
 * after `timeoutMs` — generous by default: a start (tsx, migrations) takes a few seconds alone
 * and over a minute on a busy shared machine. A process that missed its start is killed, so a
 * failed test leaves nothing running. `compiled` runs `dist/main.mjs` instead (as `npm start`
 * does; build it first). A new PGlite store in DATA_DIR is seeded from the test template, unless
 * `initdb` asks for a first run's own (initdb and every migration, in the process).
 */
export async function startControlPlaneProcess(
  env: Record<string, string>,
  timeoutMs = 180_000,
  options: StartOptions = {},
): Promise<ControlPlaneProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  const fullEnv = controlPlaneEnv(env, port);
  if (fullEnv.DATA_DIR && !options.initdb) await seedPgliteDataDir(fullEnv.DATA_DIR, fullEnv.DATABASE_URL);
  const { child, output } = spawnControlPlane(fullEnv, options.compiled);
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no start within ${timeoutMs} ms:\n${output.stdout}\n${output.stderr}`));
    }, timeoutMs);
    const check = () => {
      if (output.stdout.includes(`running at ${url}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output.stdout}\n${output.stderr}`));
    });
  });
  return {
    url,
    child,
    output: () => output.stdout,
    stop: (signal = "SIGTERM") =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill(signal);
      }),
  };
}

/**
 * A control plane that a test stops, kills and starts again as a real process on the same data
 * directory, store and port (running instances fetch the JWKS from that URL): the set-up of the
 * restart and crash tests. On PGlite the store lives in `dataDir` and survives a kill -9 as
 * PostgreSQL does; on PostgreSQL a fresh database is made for it.
 */
export interface RestartablePlane {
  readonly dataDir: string;
  readonly env: Record<string, string>;
  /** The process running now; throws when none is. */
  readonly current: ControlPlaneProcess;
  start(timeoutMs?: number): Promise<ControlPlaneProcess>;
  /** SIGKILL: no shutdown code runs, as in a crash or an OOM kill. */
  killHard(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its data directory and database. */
  dispose(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Makes a `RestartablePlane` with the test admin, the hash model (64-d), a fast reconciler and
 * short job leases; `env` adds to or overrides those. `options` go to every start
 * (`startControlPlaneProcess`).
 */
export async function restartablePlane(
  name: string,
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<RestartablePlane> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `vdb-${name}-`));
  const databaseUrl = await createTestDatabase();
  const fullEnv: Record<string, string> = {
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    PORT: String(await freePort()),
    VDB_ADMIN_EMAIL: ADMIN_EMAIL,
    VDB_ADMIN_PASSWORD: ADMIN_PASSWORD,
    INSTANCE_MODEL: "hash",
    INSTANCE_DIMENSION: "64",
    RECONCILE_INTERVAL_MS: "200",
    JOB_LEASE_MS: "2000",
    ...env,
  };
  let running: ControlPlaneProcess | null = null;
  const stop = async (signal?: NodeJS.Signals) => {
    const plane = running;
    running = null;
    await plane?.stop(signal);
  };
  return {
    dataDir,
    env: fullEnv,
    get current() {
      if (!running) throw new Error(`the ${name} control plane is not running`);
      return running;
    },
    async start(timeoutMs = 240_000) {
      if (running) throw new Error(`the ${name} control plane is already running`);
      running = await startControlPlaneProcess(fullEnv, timeoutMs, options);
      return running;
    },
    async killHard() {
      const plane = running;
      running = null;
      if (!plane || plane.child.exitCode !== null || plane.child.signalCode !== null) return;
      const exited = new Promise((resolve) => plane.child.once("exit", resolve));
      plane.child.kill("SIGKILL");
      await exited;
    },
    stop,
    async dispose(signal) {
      await stop(signal);
      if (databaseUrl) await dropTestDatabase(databaseUrl);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
