import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { testInstancePorts } from "./index";

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../main.ts");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

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

function controlPlaneEnv(env: Record<string, string>, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LOG_LEVEL: "warn",
    INSTANCE_PORTS: testInstancePorts(),
    ...env,
    PORT: String(port),
  };
}

/** Starts `src/main.ts` with its output collected. */
function spawnControlPlane(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
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
 * Runs `src/main.ts` as a real process (as `npm start` does) and resolves once it has printed
 * its URL, or rejects after `timeoutMs` — generous by default: a start (tsx, migrations) takes a
 * few seconds alone and over a minute on a busy shared machine. A process that missed its start
 * is killed, so a failed test leaves nothing running.
 */
export async function startControlPlaneProcess(
  env: Record<string, string>,
  timeoutMs = 180_000,
): Promise<ControlPlaneProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  const { child, output } = spawnControlPlane(controlPlaneEnv(env, port));
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
