import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isBuildCurrent } from "@vdb/control-plane/testing/process";

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const MAIN = path.join(PACKAGE_DIR, "src/cli/main.ts");
/** The `vdb` the package publishes (its bin, built by tsup). */
const BUILT_CLI = path.join(PACKAGE_DIR, "dist/cli.js");
/** What tsup bundles into it: this package's sources and @vdb/schemas'. */
const CLI_SOURCES = [path.join(PACKAGE_DIR, "src"), path.join(PACKAGE_DIR, "../schemas/src")];

/**
 * `node`'s arguments for `vdb`: the built bin when it is at least as new as every source it
 * bundles (a process of the build costs ~0.6 s of CPU, one through tsx ~2 s, and the suite
 * runs `vdb` some forty times), else the source through tsx: a test never runs a stale build.
 */
function vdbCommand(): string[] {
  return isBuildCurrent(BUILT_CLI, CLI_SOURCES) ? [BUILT_CLI] : ["--import", "tsx", MAIN];
}

export interface VdbRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `vdb <args>` as its own process, as a user's shell would, and waits for it to exit: the
 * current build, else the source (see {@link vdbCommand}). Only the variables given are set: a
 * developer's own VDB_API_KEY must not leak into a test.
 */
export function runVdb(args: string[], env: Record<string, string> = {}): Promise<VdbRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("VDB_")),
  );
  const child = spawn(process.execPath, [...vdbCommand(), ...args], {
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
