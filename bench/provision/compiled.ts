/**
 * bench/provision, compiled vs source (issue 13, item 5): the same instance and control plane
 * started from their TypeScript through tsx (`node --import tsx src/main.ts`) and from the
 * compiled build (`node dist/main.mjs`), alternately, N times each.
 *
 * - Instance (`hash` model, so no model load; and `use-lite` with one worker thread, the default
 *   model): spawn → its `instance listening` line, and its RSS (VmRSS of the Node process, not
 *   its Chroma, which is the same binary either way) 2 s after that.
 * - Control plane (embedded PGlite, a fresh DATA_DIR each time): spawn → `running at` printed,
 *   and its RSS 2 s after (no tenant).
 *
 * Builds both dist/ folders first. Writes COMPILED-RESULTS.md beside this file.
 * Env: BENCH_COMPILED_RUNS (default 5).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@vdb/control-plane/testing/process";
import { benchLog, coresShared, machineRows, percentile, positiveInt } from "../lib";

const log = benchLog("compiled");
const RUNS = positiveInt(process.env.BENCH_COMPILED_RUNS, 5);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const INSTANCE_DIR = path.join(ROOT, "apps/instance");
const CONTROL_PLANE_DIR = path.join(ROOT, "apps/control-plane");
const SETTLE_MS = 2_000;
const RESULTS_FILE = new URL("./COMPILED-RESULTS.md", import.meta.url);

type Mode = "source (tsx)" | "compiled (dist)";
const MODES: Mode[] = ["source (tsx)", "compiled (dist)"];

function argsFor(mode: Mode, appDir: string): string[] {
  return mode === "source (tsx)"
    ? ["--import", "tsx", path.join(appDir, "src/main.ts")]
    : [path.join(appDir, "dist/main.mjs")];
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb / 1024;
}

/** Spawns, waits for `marker` on stdout; ms from spawn, and the RSS SETTLE_MS later. */
async function startAndMeasure(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  marker: string,
): Promise<{ startMs: number; rssMb: number }> {
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
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return { startMs, rssMb: rssMb(child.pid!) };
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

async function controlPlaneSample(mode: Mode) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vdb-bench-compiled-cp-"));
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
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type Sample = { startMs: number; rssMb: number };
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** Written after every subject, so a run cut short still leaves what it measured. */
function writeResults(
  results: { label: string; byMode: Record<Mode, Sample[]> }[],
  loadBefore: number[],
  loadAfter: number[],
): void {
  const rows = results.map(({ label, byMode }) => {
    const source = byMode["source (tsx)"];
    const compiled = byMode["compiled (dist)"];
    const start = [median(source.map((s) => s.startMs)), median(compiled.map((s) => s.startMs))];
    const rss = [median(source.map((s) => s.rssMb)), median(compiled.map((s) => s.rssMb))];
    return (
      `| ${label} | ${Math.round(start[0]!)} | ${Math.round(start[1]!)} | ${Math.round(start[1]! - start[0]!)} ` +
      `| ${rss[0]!.toFixed(0)} | ${rss[1]!.toFixed(0)} | ${(rss[1]! - rss[0]!).toFixed(0)} |`
    );
  });
  const samples = results.flatMap(({ label, byMode }) =>
    MODES.map(
      (mode) =>
        `| ${label} | ${mode} | ${byMode[mode].map((s) => Math.round(s.startMs)).join(", ")} | ${byMode[mode]
          .map((s) => s.rssMb.toFixed(0))
          .join(", ")} |`,
    ),
  );
  const fmt = (load: number[]) => load.map((value) => value.toFixed(2)).join(" / ");
  const table = `# bench/provision — compiled JavaScript vs TypeScript through tsx (issue 13, item 5)

Generated by \`pnpm --filter @vdb/bench compiled\` (\`bench/provision/compiled.ts\`); overwritten on every run.

| | |
| --- | --- |
${machineRows()}
| Cores | ${coresShared(os.availableParallelism())} |
| Load average | ${fmt(loadBefore)} before, ${fmt(loadAfter)} after (1 / 5 / 15 min) |
| Runs | ${RUNS} measured per mode and subject (plus one warm-up each), modes alternating |

Start: spawn → the process's ready line (the instance's \`instance listening\`, which comes after its Chroma
answers and, with \`use-lite\`, the model's warm-up; the control plane's \`running at\`). RSS: VmRSS of that
Node process ${SETTLE_MS / 1000} s after its ready line (an instance's Chroma is a separate process, the same
either way, and not counted).

## Medians

| | start, source (ms) | start, compiled (ms) | Δ ms | RSS, source (MB) | RSS, compiled (MB) | Δ MB |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}

## Every sample

| | mode | start (ms) | RSS (MB) |
| --- | --- | --- | --- |
${samples.join("\n")}
`;
  writeFileSync(RESULTS_FILE, table);
}

async function main() {
  log("building apps/instance/dist and apps/control-plane/dist");
  execFileSync(process.execPath, ["build.mjs"], { cwd: INSTANCE_DIR, stdio: "inherit" });
  execFileSync(process.execPath, ["build.mjs"], { cwd: CONTROL_PLANE_DIR, stdio: "inherit" });
  const loadBefore = os.loadavg();
  const subjects = [
    { label: "instance, `hash` model", sample: (mode: Mode) => instanceSample(mode, "hash") },
    {
      label: "instance, `use-lite` model (1 worker thread)",
      sample: (mode: Mode) => instanceSample(mode, "use-lite"),
    },
    { label: "control plane (PGlite, no tenant)", sample: controlPlaneSample },
  ];
  const results: { label: string; byMode: Record<Mode, Sample[]> }[] = [];
  for (const subject of subjects) {
    const byMode: Record<Mode, Sample[]> = { "source (tsx)": [], "compiled (dist)": [] };
    // One unmeasured warm-up each (disk cache), then alternate so load drifts hit both alike.
    for (const mode of MODES) await subject.sample(mode);
    for (let run = 1; run <= RUNS; run++) {
      for (const mode of MODES) {
        const sample = await subject.sample(mode);
        byMode[mode].push(sample);
        log(
          `${subject.label} ${mode} #${run}: ${Math.round(sample.startMs)} ms, ${sample.rssMb.toFixed(0)} MB`,
        );
      }
    }
    results.push({ label: subject.label, byMode });
    writeResults(results, loadBefore, os.loadavg());
  }
  log(`wrote ${RESULTS_FILE.pathname}`);
}

await main();
