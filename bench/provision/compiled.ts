/**
 * bench/provision, compiled vs source (issue 13, item 5): the same instance and control plane
 * started from their TypeScript through tsx (`node --import tsx src/main.ts`), from a build that
 * leaves every npm package a module of its own (`dist-npm-apart/`, the layout before issue 12's
 * bundling of npm packages) and from the compiled build as shipped (`node dist/main.mjs`),
 * alternately, N times each. Each sample: wall time and the process's CPU time (user + system,
 * all its threads) to its ready line, and its RSS.
 *
 * - Instance (`hash` model, so no model load; and `use-lite` with one worker thread, the default
 *   model): spawn → its `instance listening` line, and its RSS (VmRSS of the Node process, not
 *   its Chroma, which is the same binary either way) 2 s after that.
 * - Control plane (embedded PGlite, a fresh DATA_DIR each time): spawn → `running at` printed,
 *   and its RSS 2 s after (no tenant).
 *
 * Builds both apps' dist/ and dist-npm-apart/ first (the latter removed at the end). Writes
 * COMPILED-RESULTS.md beside this file.
 * Env: BENCH_COMPILED_RUNS (default 5).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@vdb/control-plane/testing/process";
import { benchLog, coresShared, cpuSecondsOf, machineRows, median, positiveInt } from "../lib";

const log = benchLog("compiled");
const RUNS = positiveInt(process.env.BENCH_COMPILED_RUNS, 5);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const INSTANCE_DIR = path.join(ROOT, "apps/instance");
const CONTROL_PLANE_DIR = path.join(ROOT, "apps/control-plane");
const SETTLE_MS = 2_000;
const RESULTS_FILE = new URL("./COMPILED-RESULTS.md", import.meta.url);

const NPM_APART_DIR = "dist-npm-apart";

type Mode = "source (tsx)" | "compiled, npm apart" | "compiled (dist)";
const MODES: Mode[] = ["source (tsx)", "compiled, npm apart", "compiled (dist)"];

function argsFor(mode: Mode, appDir: string): string[] {
  if (mode === "source (tsx)") return ["--import", "tsx", path.join(appDir, "src/main.ts")];
  return [path.join(appDir, mode === "compiled (dist)" ? "dist" : NPM_APART_DIR, "main.mjs")];
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb / 1024;
}

/** Spawns, waits for `marker` on stdout; ms from spawn and CPU ms then, and the RSS SETTLE_MS later. */
async function startAndMeasure(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  marker: string,
): Promise<Sample> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  try {
    const startMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${marker}" in 120 s:\n${output}`)), 120_000);
      const check = (chunk: Buffer) => {
        output += chunk;
        if (output.includes(marker)) {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      };
      child.stdout?.on("data", check);
      child.stderr?.on("data", (chunk) => {
        output += chunk;
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}:\n${output}`));
      });
    });
    const cpuMs = (await cpuSecondsOf(`/proc/${child.pid}/stat`)) * 1000;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return { startMs, cpuMs, rssMb: rssMb(child.pid!) };
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  }
}

async function instanceSample(mode: Mode, model: "hash" | "use-lite") {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vdb-bench-compiled-"));
  try {
    return await startAndMeasure(
      argsFor(mode, INSTANCE_DIR),
      INSTANCE_DIR,
      {
        ...process.env,
        TENANT_ID: "ten_benchcompiled0000000",
        MODEL_NAME: model,
        DIMENSION: model === "hash" ? "64" : "512",
        EMBED_WORKERS: "1",
        DATA_DIR: dataDir,
        JWKS_URL: "http://127.0.0.1:9/.well-known/jwks.json",
        TOKEN_ISSUER: "http://127.0.0.1:9",
        PORT: String(await freePort()),
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        CHROMA_URL: "",
      },
      '"instance listening"',
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** On `store` (a DATA_DIR kept between samples, as a restart finds it), or on a new DATA_DIR. */
async function controlPlaneSample(mode: Mode, store?: string) {
  const dataDir = store ?? mkdtempSync(path.join(os.tmpdir(), "vdb-bench-compiled-cp-"));
  const port = await freePort();
  try {
    return await startAndMeasure(
      argsFor(mode, CONTROL_PLANE_DIR),
      CONTROL_PLANE_DIR,
      {
        ...process.env,
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        VDB_ADMIN_PASSWORD: "bench-compiled-password",
      },
      `running at http://127.0.0.1:${port}`,
    );
  } finally {
    if (!store) rmSync(dataDir, { recursive: true, force: true });
  }
}

type Sample = { startMs: number; cpuMs: number; rssMb: number };

/** Written after every subject, so a run cut short still leaves what it measured. */
function writeResults(
  results: { label: string; byMode: Record<Mode, Sample[]> }[],
  loadBefore: number[],
  loadAfter: number[],
): void {
  const medians = (samples: Sample[]) => ({
    startMs: median(samples.map((s) => s.startMs)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    rssMb: median(samples.map((s) => s.rssMb)),
  });
  const rows = results.flatMap(({ label, byMode }) => {
    const apart = medians(byMode["compiled, npm apart"]);
    return MODES.map((mode) => {
      const m = medians(byMode[mode]);
      return (
        `| ${label} | ${mode} | ${Math.round(m.startMs)} | ${Math.round(m.cpuMs)} | ` +
        `${(m.cpuMs / apart.cpuMs).toFixed(2)} | ${m.rssMb.toFixed(0)} |`
      );
    });
  });
  const samples = results.flatMap(({ label, byMode }) =>
    MODES.map(
      (mode) =>
        `| ${label} | ${mode} | ${byMode[mode].map((s) => Math.round(s.startMs)).join(", ")} | ` +
        `${byMode[mode].map((s) => Math.round(s.cpuMs)).join(", ")} | ${byMode[mode].map((s) => s.rssMb.toFixed(0)).join(", ")} |`,
    ),
  );
  const fmt = (load: number[]) => load.map((value) => value.toFixed(2)).join(" / ");
  const table = `# bench/provision — compiled JavaScript vs TypeScript through tsx (issue 13, item 5), npm packages bundled or apart (issue 12)

Generated by \`pnpm --filter @vdb/bench compiled\` (\`bench/provision/compiled.ts\`); overwritten on every run.

| | |
| --- | --- |
${machineRows()}
| Cores | ${coresShared(os.availableParallelism())} |
| Load average | ${fmt(loadBefore)} before, ${fmt(loadAfter)} after (1 / 5 / 15 min) |
| Runs | ${RUNS} measured per mode and subject (plus one warm-up each), modes alternating |

Modes: \`source (tsx)\` runs \`src/main.ts\` through tsx; \`compiled, npm apart\` a build whose npm packages
stay modules of their own in \`node_modules\` (as \`dist/\` was built before issue 12); \`compiled (dist)\` the
build as shipped, with the npm packages bundled except those that find files beside their own code
(\`infra/scripts/node-dist.mjs\`).

Start: spawn → the process's ready line (the instance's \`instance listening\`, which comes after its Chroma
answers and, with \`use-lite\`, the model's warm-up; the control plane's \`running at\`). CPU: the process's
user + system time at that line, all its threads (not its children: an instance's Chroma, the control
plane's store-creating child). RSS: VmRSS of that Node process ${SETTLE_MS / 1000} s after its ready line.

## Medians

| | mode | start (ms) | CPU (ms) | CPU ÷ npm apart | RSS (MB) |
| --- | --- | ---: | ---: | ---: | ---: |
${rows.join("\n")}

## Every sample

| | mode | start (ms) | CPU (ms) | RSS (MB) |
| --- | --- | --- | --- | --- |
${samples.join("\n")}
`;
  writeFileSync(RESULTS_FILE, table);
}

async function main() {
  log(`building apps/instance and apps/control-plane: dist/ and ${NPM_APART_DIR}/`);
  for (const dir of [INSTANCE_DIR, CONTROL_PLANE_DIR]) {
    execFileSync(process.execPath, ["build.mjs"], { cwd: dir, stdio: "inherit" });
    execFileSync(process.execPath, ["build.mjs", "--outdir", NPM_APART_DIR, "--npm-apart"], {
      cwd: dir,
      stdio: "inherit",
    });
  }
  try {
    await measureAll();
  } finally {
    for (const dir of [INSTANCE_DIR, CONTROL_PLANE_DIR]) {
      rmSync(path.join(dir, NPM_APART_DIR), { recursive: true, force: true });
    }
  }
  log(`wrote ${RESULTS_FILE.pathname}`);
}

async function measureAll() {
  const existingStore = mkdtempSync(path.join(os.tmpdir(), "vdb-bench-compiled-store-"));
  try {
    await measureSubjects(existingStore);
  } finally {
    rmSync(existingStore, { recursive: true, force: true });
  }
}

async function measureSubjects(existingStore: string) {
  const loadBefore = os.loadavg();
  const subjects = [
    { label: "instance, `hash` model", sample: (mode: Mode) => instanceSample(mode, "hash") },
    {
      label: "instance, `use-lite` model (1 worker thread)",
      sample: (mode: Mode) => instanceSample(mode, "use-lite"),
    },
    {
      label: "control plane (PGlite, new store, no tenant)",
      sample: (mode: Mode) => controlPlaneSample(mode),
    },
    {
      // The warm-up creates it.
      label: "control plane (PGlite, existing store, no tenant)",
      sample: (mode: Mode) => controlPlaneSample(mode, existingStore),
    },
  ];
  const results: { label: string; byMode: Record<Mode, Sample[]> }[] = [];
  for (const subject of subjects) {
    const byMode: Record<Mode, Sample[]> = {
      "source (tsx)": [],
      "compiled, npm apart": [],
      "compiled (dist)": [],
    };
    // One unmeasured warm-up each (disk cache), then alternate so load drifts hit both alike.
    for (const mode of MODES) await subject.sample(mode);
    for (let run = 1; run <= RUNS; run++) {
      for (const mode of MODES) {
        const sample = await subject.sample(mode);
        byMode[mode].push(sample);
        log(
          `${subject.label} ${mode} #${run}: ${Math.round(sample.startMs)} ms, ` +
            `CPU ${Math.round(sample.cpuMs)} ms, ${sample.rssMb.toFixed(0)} MB`,
        );
      }
    }
    results.push({ label: subject.label, byMode });
    writeResults(results, loadBefore, os.loadavg());
  }
}

await main();
