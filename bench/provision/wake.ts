/**
 * bench/provision (wake): how long a sleeping dedicated instance takes to answer its first search.
 *
 * One control plane (startTestServer, reconcile interval 50 ms as in run.ts) with
 * INSTANCE_SLEEP_AFTER_IDLE_MS = 2 s, so instances really go to sleep on their own. One tenant,
 * a few records embedded. Each run waits until the instance sleeps (state `sleeping` on the live
 * status and its process gone), then times one `POST /api/v1/search` with the tenant's API key:
 * the request wakes the instance, waits for it and answers. Its results must equal the results
 * before the first sleep. Phases from the reconciler's change events (in-process).
 *
 * For comparison, in the same run: launches of fresh instances (POST /launch → the client's
 * 20 ms status poll sees `running`), as run.ts measures them.
 *
 * Env: BENCH_WAKE_RUNS (default 10), BENCH_LAUNCH_RUNS (default 10).
 */
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer, testStoreKind } from "@vdb/control-plane/testing";
import { benchLog, callJson, coresShared, machineRows, median, ms, positiveInt, requestJson } from "../lib";

const log = benchLog("provision:wake");

const RUNS = positiveInt(process.env.BENCH_WAKE_RUNS, 10);
const LAUNCH_RUNS = positiveInt(process.env.BENCH_LAUNCH_RUNS, 10);
const RECONCILE_INTERVAL_MS = 50;
const IDLE_MS = 2_000;
const POLL_MS = 20;
const GOAL_MS = 2_000;
const RESULTS_FILE = new URL("./WAKE-RESULTS.md", import.meta.url);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The command line of the tenant's running instance process (which entry the runtime started). */
async function instanceCommand(server: TestServer, tenantId: string): Promise<string> {
  const record = JSON.parse(
    await readFile(path.join(server.config.DATA_DIR, "instances", tenantId, "instance.json"), "utf8"),
  ) as { pid: number };
  const args = (await readFile(`/proc/${record.pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
  return args
    .map((arg) =>
      path.relative(REPO_ROOT, arg).startsWith("..") ? path.basename(arg) : path.relative(REPO_ROOT, arg),
    )
    .join(" ");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface WakeRun {
  /** Request sent → 200 received. */
  total: number;
  /** Request sent → the reconciler records `waking` (the wake is claimed). */
  toWaking: number;
  /** `waking` → process spawned (the reconciler's start). */
  toSpawned: number;
  /** Process spawned → `running` (healthy). */
  toRunning: number;
  /** `running` → the search's answer received. */
  toAnswer: number;
  isSameResults: boolean;
}

const DOCUMENTS = [
  "Sleeping instances keep their data on disk.",
  "The first request wakes a sleeping instance.",
  "Chroma stores the vectors of every tenant apart.",
  "An idle instance costs no memory while it sleeps.",
];

async function tenantWithKey(server: TestServer, slug: string): Promise<{ tenantId: string; key: string }> {
  const api = `${server.url}/api/v1`;
  const tenant = await callJson<{ id: string }>(
    `${api}/tenants`,
    { token: server.adminToken, body: { slug, name: slug, plan: "starter" } },
    201,
  );
  const key = await callJson<{ secret: string }>(
    `${api}/tenants/${tenant.id}/keys`,
    { token: server.adminToken, body: { name: "bench", scopes: ["read", "write"] } },
    201,
  );
  return { tenantId: tenant.id, key: key.secret };
}

/** Polls the status every POLL_MS until `until` holds; the states seen on the way. */
async function pollStatus(
  server: TestServer,
  tenantId: string,
  until: (state: string | undefined) => boolean,
) {
  const states: string[] = [];
  const started = Date.now();
  while (Date.now() - started < 120_000) {
    const status = await requestJson<{ state?: string } | null>(`${server.url}/api/v1/status/${tenantId}`, {
      token: server.adminToken,
    });
    const state = status.body?.state ?? "none";
    if (states.at(-1) !== state) states.push(state);
    if (until(status.body?.state)) return { states, seenAt: Date.now() };
    await sleep(POLL_MS);
  }
  throw new Error(`${tenantId}: not there within 120 s; saw ${states.join(" → ")}`);
}

/** Waits until the instance sleeps and its process is gone (the runtime lists none for it). */
async function untilAsleep(server: TestServer, tenantId: string): Promise<void> {
  await pollStatus(server, tenantId, (state) => state === "sleeping");
  for (;;) {
    const live = await server.services.runtime.list();
    if (!live.some((handle) => handle.tenantId === tenantId)) return;
    await sleep(POLL_MS);
  }
}

function search(server: TestServer, key: string) {
  return requestJson<{ results: unknown[] }>(`${server.url}/api/v1/search`, {
    token: key,
    body: { query: "waking a sleeping instance", nResults: 3, mode: "vector" },
  });
}

async function wakeOnce(server: TestServer, tenant: { tenantId: string; key: string }, baseline: string) {
  await untilAsleep(server, tenant.tenantId);
  const marks: Record<string, number> = {};
  const onChange = (instance: { tenantId: string; state: string; url: string | null }) => {
    if (instance.tenantId !== tenant.tenantId) return;
    if (instance.state === "waking" && instance.url === null && marks.waking === undefined)
      marks.waking = Date.now();
    if (instance.state === "running" && marks.running === undefined) marks.running = Date.now();
  };
  // The start itself: when the reconciler has the process spawned (the runtime's start returns).
  const { runtime } = server.services;
  const start = runtime.start;
  runtime.start = async (spec) => {
    const started = await start.call(runtime, spec);
    if (spec.tenantId === tenant.tenantId && marks.spawned === undefined) marks.spawned = Date.now();
    return started;
  };
  server.services.reconciler.on("change", onChange);
  try {
    const sent = Date.now();
    const answer = await search(server, tenant.key);
    const answered = Date.now();
    if (answer.status !== 200) throw new Error(`search while asleep: HTTP ${answer.status}`);
    return {
      total: answered - sent,
      toWaking: (marks.waking ?? Number.NaN) - sent,
      toSpawned: (marks.spawned ?? Number.NaN) - (marks.waking ?? Number.NaN),
      toRunning: (marks.running ?? Number.NaN) - (marks.spawned ?? Number.NaN),
      toAnswer: answered - (marks.running ?? Number.NaN),
      isSameResults: JSON.stringify(answer.body.results) === baseline,
    } satisfies WakeRun;
  } finally {
    server.services.reconciler.off("change", onChange);
    runtime.start = start;
  }
}

/** One fresh launch, as run.ts times it: POST /launch → the 20 ms status poll sees `running`. */
async function launchOnce(server: TestServer, index: number): Promise<number> {
  const { tenantId } = await tenantWithKey(server, `bench-launch-${index}-${Date.now().toString(36)}`);
  const sent = Date.now();
  await callJson(`${server.url}/api/v1/launch`, { token: server.adminToken, body: { tenantId } });
  const { seenAt } = await pollStatus(server, tenantId, (state) => state === "running");
  await callJson(`${server.url}/api/v1/delete/${tenantId}`, { method: "DELETE", token: server.adminToken });
  await pollStatus(server, tenantId, (state) => state === "deleted" || state === undefined).catch(() => {});
  for (;;) {
    const live = await server.services.runtime.list();
    if (!live.some((handle) => handle.tenantId === tenantId)) break;
    await sleep(POLL_MS);
  }
  return seenAt - sent;
}

function render(input: {
  date: Date;
  storeKind: string;
  loadStart: number[];
  loadEnd: number[];
  wakes: WakeRun[];
  launches: number[];
  command: string;
}): string {
  const { wakes, launches } = input;
  const med = median(wakes.map((w) => w.total));
  const launchMed = median(launches);
  const isMet = med <= GOAL_MS;
  const row = (label: string, values: number[]) =>
    `| ${label} | ${ms(median(values))} | ${ms(Math.min(...values))} | ${ms(Math.max(...values))} |`;
  return [
    "# bench/provision (wake) — results",
    "",
    "Generated by `pnpm --filter @vdb/bench wake` (`bench/provision/wake.ts`); overwritten on every run.",
    "",
    "| | |",
    "| --- | --- |",
    machineRows(input.date),
    `| Cores | ${coresShared(os.cpus().length)} |`,
    `| Load average at start | ${input.loadStart.map((v) => v.toFixed(2)).join(" / ")} (1 / 5 / 15 min) |`,
    `| Load average at end | ${input.loadEnd.map((v) => v.toFixed(2)).join(" / ")} |`,
    `| Store | ${input.storeKind} |`,
    `| Runtime | local: the instance is \`${input.command}\` (built by \`node build.mjs\` at the start of the bench), which spawns \`chroma run\` |`,
    "| Instance model | `hash`, 64-d (the harness default: no model to load), 4 records |",
    `| Sleep | \`INSTANCE_SLEEP_AFTER_IDLE_MS\` = ${IDLE_MS} ms: the instance goes to sleep by itself between runs |`,
    `| Reconcile interval | ${RECONCILE_INTERVAL_MS} ms (as run.ts; a wake nudges the reconciler, the interval bounds how soon a healthy instance is noticed) |`,
    `| Runs | ${wakes.length} wakes of one tenant's instance, each from \`sleeping\` with its process gone; then ${launches.length} fresh launches (plus one warm-up) |`,
    "",
    "## Goal",
    "",
    `Sleeping dedicated instance → first successful search at most ${GOAL_MS / 1000} s, median of ${wakes.length} (issue 13).`,
    "",
    `Measured: median **${ms(med)} ms** from sending \`POST /api/v1/search\` to its 200 (every one a 200; ${wakes.filter((w) => w.isSameResults).length} of ${wakes.length} with the same results as before the instance first slept).`,
    "",
    `**Goal ${isMet ? "met" : "NOT met"}** (${ms(med)} ms ${isMet ? "≤" : ">"} ${GOAL_MS} ms). For comparison, a fresh launch in the same run: median **${ms(launchMed)} ms** (POST /launch → client poll sees \`running\`).`,
    "",
    "## Summary (ms)",
    "",
    "| | Median | Min | Max |",
    "| --- | ---: | ---: | ---: |",
    row(
      "**sleeping → first search answered**",
      wakes.map((w) => w.total),
    ),
    row(
      "request → `waking` recorded",
      wakes.map((w) => w.toWaking),
    ),
    row(
      "`waking` → process spawned",
      wakes.map((w) => w.toSpawned),
    ),
    row(
      "process spawned → `running` (healthy)",
      wakes.map((w) => w.toRunning),
    ),
    row(
      "`running` → search answered",
      wakes.map((w) => w.toAnswer),
    ),
    row("fresh launch → `running` (client poll)", launches),
    "",
    "## Every wake (ms)",
    "",
    "| Run | Total | → waking | → spawned | → running | → answered | Same results |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...wakes.map(
      (w, i) =>
        `| ${i + 1} | ${ms(w.total)} | ${ms(w.toWaking)} | ${ms(w.toSpawned)} | ${ms(w.toRunning)} | ${ms(w.toAnswer)} | ${w.isSameResults ? "yes" : "no"} |`,
    ),
    "",
    `Fresh launches (ms): ${launches.map(ms).join(", ")}.`,
    "",
    "A wake is a start of the instance's processes on their kept data directory: the time is the",
    "instance's start (see RESULTS.md for its phases) plus the wake's own steps (the request sees",
    "`sleeping`, claims the wake, the reconciler is nudged, the waiting request is told `running`",
    "by the reconciler's event and sends the search).",
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const storeKind = testStoreKind();
  // The compiled instance, as `npm start` builds it: the local runtime runs it when it is current.
  execFileSync(process.execPath, ["build.mjs"], {
    cwd: path.join(REPO_ROOT, "apps/instance"),
    stdio: "inherit",
  });
  const loadStart = os.loadavg();
  log(`starting control plane (store: ${storeKind}, idle ${IDLE_MS} ms)`);
  const server = await startTestServer({
    env: {
      RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
      INSTANCE_SLEEP_AFTER_IDLE_MS: String(IDLE_MS),
    },
  });
  const wakes: WakeRun[] = [];
  const launches: number[] = [];
  let command = "unknown";
  try {
    const tenant = await tenantWithKey(server, `bench-wake-${Date.now().toString(36)}`);
    await callJson(`${server.url}/api/v1/launch`, {
      token: server.adminToken,
      body: { tenantId: tenant.tenantId },
    });
    await pollStatus(server, tenant.tenantId, (state) => state === "running");
    command = await instanceCommand(server, tenant.tenantId);
    await callJson(`${server.url}/api/v1/embed`, {
      token: tenant.key,
      body: { ids: DOCUMENTS.map((_, i) => `doc-${i}`), documents: DOCUMENTS },
    });
    const before = await search(server, tenant.key);
    if (before.status !== 200) throw new Error(`baseline search: HTTP ${before.status}`);
    const baseline = JSON.stringify(before.body.results);
    for (let i = 1; i <= RUNS; i++) {
      const run = await wakeOnce(server, tenant, baseline);
      log(
        `wake ${i}/${RUNS}: ${ms(run.total)} ms (waking ${ms(run.toWaking)}, spawned ${ms(run.toSpawned)}, running ${ms(run.toRunning)}, answered ${ms(run.toAnswer)})`,
      );
      wakes.push(run);
    }
    // The comparison: no instance of the woken tenant runs meanwhile (it sleeps again by itself).
    await untilAsleep(server, tenant.tenantId);
    log("launches for comparison (one warm-up, not counted)");
    await launchOnce(server, 0);
    for (let i = 1; i <= LAUNCH_RUNS; i++) {
      const took = await launchOnce(server, i);
      log(`launch ${i}/${LAUNCH_RUNS}: ${ms(took)} ms`);
      launches.push(took);
    }
  } finally {
    await server.close();
  }
  await writeFile(
    RESULTS_FILE,
    render({ date: new Date(), storeKind, loadStart, loadEnd: os.loadavg(), wakes, launches, command }),
  );
  const med = median(wakes.map((w) => w.total));
  log(
    `median sleeping → first search ${ms(med)} ms (goal ≤ ${GOAL_MS} ms: ${med <= GOAL_MS ? "met" : "NOT met"})`,
  );
  log(`median fresh launch ${ms(median(launches))} ms`);
  log(`wrote ${RESULTS_FILE.pathname}`);
}

await main();
