import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isPidAlive } from "@vdb/http/processes";
import { afterAll, describe, expect, it } from "vitest";
import { testInstancePorts } from "./testing";
import { seedPgliteDataDir } from "./testing/pglite-template";
import { childPidsOf, freePort } from "./testing/process";

// `npm start` (infra/scripts/start.mjs) on this checkout, as a real process: it installs and
// builds only what changed, runs the platform and passes a stop signal on to it.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const START = path.join(ROOT, "infra/scripts/start.mjs");
const DISTS = ["apps/instance/dist", "apps/control-plane/dist", "apps/console/dist", "apps/widget/dist"];
const PACKAGES = ["@vdb/instance", "@vdb/control-plane", "@vdb/console", "@vdb/widget"];

/** Every file under the four dist/ directories → its mtime. */
function distMtimes(): Map<string, number> {
  const mtimes = new Map<string, number>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else mtimes.set(rel, statSync(path.join(ROOT, rel)).mtimeMs);
    }
  };
  for (const dir of DISTS) walk(dir);
  return mtimes;
}

/**
 * Runs the start script until the platform's banner, then stops it with `signal` (sent to the
 * script only, as a supervisor does): its `start:` lines and exit code, and whether the platform
 * process it started is gone.
 */
async function startAndStop(env: Record<string, string>, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [START], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", INSTANCE_PORTS: testInstancePorts(), ...env },
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
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (stdout.includes(`running at http://127.0.0.1:${env.PORT}`)) resolve();
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${stdout}\n${stderr}`)));
  });
  const platform = childPidsOf(child.pid!);
  expect(platform).toHaveLength(1);
  child.kill(signal);
  const code = await exited;
  const lines = stdout.split("\n").filter((line) => line.startsWith("start: "));
  return { code, lines, platformGone: !isPidAlive(platform[0]!) };
}

describe("npm start (infra/scripts/start.mjs)", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-npm-start-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("a second start skips install and every build; a touched widget source rebuilds only the widget; a build newer than its sources is kept without a stamp", {
    timeout: 900_000,
  }, async () => {
    const env = { PORT: String(await freePort()), DATA_DIR: dataDir };
    // A migrated store from the tests' template, so no start waits for initdb: this test is about
    // what the script installs and builds (main.test.ts starts on a store of its own making).
    await seedPgliteDataDir(dataDir, undefined);
    // Whatever this checkout needs (on a fresh clone: the install and all four builds; after
    // `pnpm build` or CI's turbo builds, those builds are kept and stamped).
    const first = await startAndStop(env, "SIGINT");
    expect(first.code).toBe(0);
    expect(first.platformGone).toBe(true);
    const built = distMtimes();

    const second = await startAndStop(env, "SIGINT");
    expect(second.code).toBe(0);
    expect(second.platformGone).toBe(true);
    expect(second.lines).toEqual([
      "start: install skipped (pnpm-lock.yaml and every package.json unchanged since the last install)",
      ...PACKAGES.map((name) => `start: build ${name} skipped (unchanged since its last build)`),
      "start: running the platform (node apps/control-plane/dist/main.mjs)",
    ]);
    expect(distMtimes()).toEqual(built);

    // Saved again without a change (a new mtime): the widget's build is redone, nothing else. The
    // instance's stamp removed: its build, newer than its sources, is kept as if made by `pnpm build`.
    const source = path.join(ROOT, "apps/widget/src/loader.ts");
    const mtime = Math.max(Date.now(), statSync(source).mtimeMs + 1000) / 1000;
    utimesSync(source, mtime, mtime);
    rmSync(path.join(ROOT, "apps/instance/dist/.vdb-build"));
    const third = await startAndStop(env, "SIGTERM");
    expect(third.code).toBe(0);
    expect(third.platformGone).toBe(true);
    expect(third.lines).toEqual([
      "start: install skipped (pnpm-lock.yaml and every package.json unchanged since the last install)",
      "start: build @vdb/instance skipped (built after its last source change, outside npm start)",
      ...PACKAGES.slice(1, 3).map((name) => `start: build ${name} skipped (unchanged since its last build)`),
      "start: build @vdb/widget: sources changed since the last build (apps/widget, packages/schemas); building",
      "start: running the platform (node apps/control-plane/dist/main.mjs)",
    ]);
    const rebuilt = distMtimes();
    for (const [file, before] of built) {
      if (file.startsWith("apps/widget/") || file === "apps/instance/dist/.vdb-build") continue;
      expect({ file, mtime: rebuilt.get(file) }).toEqual({ file, mtime: before });
    }
    expect(rebuilt.get("apps/widget/dist/core.js")).toBeGreaterThan(built.get("apps/widget/dist/core.js")!);
  });
});
