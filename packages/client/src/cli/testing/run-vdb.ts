import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const MAIN = path.join(PACKAGE_DIR, "src/cli/main.ts");

export interface VdbRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `vdb <args>` as its own process, as a user's shell would, and waits for it to exit. The
 * source runs through tsx, so the tests need no prior build and never test a stale dist. Only
 * the variables given are set: a developer's own VDB_API_KEY must not leak into a test.
 */
export function runVdb(args: string[], env: Record<string, string> = {}): Promise<VdbRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("VDB_")),
  );
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: PACKAGE_DIR,
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
