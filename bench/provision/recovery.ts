/**
 * bench/provision, second part: how long the data plane is down after a control-plane restart and
 * after an instance (or its Chroma) is killed with SIGKILL (issue 19).
 *
 * A real control plane (`src/main.ts` through tsx; its instances run compiled, as under `npm start`; embedded PGlite in a fresh DATA_DIR,
 * every timing default: RECONCILE_INTERVAL_MS 1000, the `hash` model so no model load muddies the
 * instance's start). Each measured tenant has an API key and one embedded record; "served" means
 * `POST /api/v1/search` with that key answered 200 with the record (polled every 20 ms).
 *
 * - Cold start: spawn → the control plane prints its URL, on an empty DATA_DIR (migrations included).
 * - Restart (×N): SIGTERM (a supervisor's restart: instances are left running), then a new process.
 *   Its own start (spawn → URL printed) and spawn → first served search are both measured, so the
 *   goal "≤ 2 s over the control plane's own start" is read from the same sample.
 * - Instance kill -9 (×N, one tenant each so each is a first crash, restarted without backoff):
 *   once on instances this control plane started (its children: their exit is an event), once on
 *   instances it re-adopted after a restart (not its children: noticed by its sweep).
 * - Chroma kill -9 (×N, re-adopted instances, one tenant each): the instance restarts its Chroma
 *   in place (it answers 503 + Retry-After meanwhile); the instance process itself stays.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { testInstancePorts } from "@vdb/control-plane/testing";
import {
  type ControlPlaneProcess,
  childPidsOf,
  freePort,
  startControlPlaneProcess,
} from "@vdb/control-plane/testing/process";
import { benchLog, coresShared, median, ms, requestJson } from "../lib";

const log = benchLog("provision");
const POLL_MS = 20;
const EMAIL = "admin@bench-recovery.test";
const PASSWORD = "bench-recovery-password";
const START_TIMEOUT_MS = 240_000;
const SERVE_TIMEOUT_MS = 120_000;

export type RecoveryKind = "restart" | "instanceKillChild" | "instanceKillAdopted" | "chromaKillAdopted";

export interface RecoverySample {
  kind: RecoveryKind;
  index: number;
  /** Restarts: spawn → the new control plane printed its URL. */
  ownStartMs: number | null;
  /** Spawn (restart) or SIGKILL (kills) → first search answered 200 with the record. */
  servedMs: number;
  /** Whether the search that answered was served by the same instance process as before. */
  sameInstance: boolean;
  /** 1-minute load average when the sample was taken. */
  load1: number;
  /**
   * Kills: ms from SIGKILL to the first `GET /status` poll (20 ms) that saw the instance no longer
   * running (the crash noticed), then `starting` (a new process spawned), then `running` again.
   */
  states: { noticed: number; starting: number; running: number } | null;
}

export interface RecoveryResults {
  coldStartMs: number;
  samples: RecoverySample[];
  uptimeBefore: string;
  uptimeAfter: string;
}

interface Tenant {
  id: string;
  key: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function uptime(): string {
  const [one, five, fifteen] = os.loadavg().map((value) => value.toFixed(2));
  return `${one} / ${five} / ${fifteen}`;
}

function instancePid(dataDir: string, tenantId: string): number {
  const file = path.join(dataDir, "instances", tenantId, "instance.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { pid: number }).pid;
}

/** Every instance process (a process group: its Chroma too) recorded under `dataDir`. */
function killInstances(dataDir: string): void {
  for (const tenantId of readdirSync(path.join(dataDir, "instances"), { withFileTypes: true })) {
    try {
      process.kill(-instancePid(dataDir, tenantId.name), "SIGKILL");
    } catch {
      // no pid file, or gone already
    }
  }
}

/** Whether a search with the tenant's key is served now (never throws: a refused connection is "no"). */
async function served(url: string, tenant: Tenant): Promise<boolean> {
  try {
    const search = await requestJson<{ results?: { id: string }[] }>(`${url}/api/v1/search`, {
      token: tenant.key,
      body: { query: "recovery" },
    });
    return search.status === 200 && search.body.results?.[0]?.id === "recovery";
  } catch {
    return false;
  }
}

/** Polls until a search is served; ms from `since` (performance.now()) to that answer. */
async function untilServed(url: () => string, tenant: Tenant, since: number): Promise<number> {
  while (performance.now() - since < SERVE_TIMEOUT_MS) {
    if (await served(url(), tenant)) return performance.now() - since;
    await sleep(POLL_MS);
  }
  throw new Error(`${tenant.id}: no search served within ${SERVE_TIMEOUT_MS} ms`);
}

export async function measureRecovery(runs: number): Promise<RecoveryResults> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vdb-bench-recovery-"));
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    DATABASE_URL: "",
    // The same address and port range across restarts, as an operator's would be.
    PORT: String(await freePort()),
    INSTANCE_PORTS: testInstancePorts(),
    VDB_ADMIN_EMAIL: EMAIL,
    VDB_ADMIN_PASSWORD: PASSWORD,
    INSTANCE_MODEL: "hash",
    INSTANCE_DIMENSION: "64",
    LOG_LEVEL: "warn",
  };
  const uptimeBefore = uptime();
  const samples: RecoverySample[] = [];
  let plane: ControlPlaneProcess | null = null;
  try {
    log("recovery: cold start of a real control plane (empty DATA_DIR)");
    const coldAt = performance.now();
    plane = await startControlPlaneProcess(env, START_TIMEOUT_MS);
    const coldStartMs = performance.now() - coldAt;
    log(`  cold start ${Math.round(coldStartMs)} ms`);
    const url = plane.url;
    const session = await requestJson<{ token: string }>(`${url}/api/v1/auth/login`, {
      body: { email: EMAIL, password: PASSWORD },
    });
    const admin = session.body.token;

    const prepare = async (slug: string): Promise<Tenant> => {
      const tenant = await requestJson<{ id: string }>(`${url}/api/v1/tenants`, {
        token: admin,
        body: { slug, name: slug },
      });
      if (tenant.status !== 201) throw new Error(`creating ${slug}: HTTP ${tenant.status}`);
      const key = await requestJson<{ secret: string }>(`${url}/api/v1/tenants/${tenant.body.id}/keys`, {
        token: admin,
        body: { name: "bench", scopes: ["read", "write"] },
      });
      await requestJson(`${url}/api/v1/launch`, { token: admin, body: { tenantId: tenant.body.id } });
      return { id: tenant.body.id, key: key.body.secret };
    };
    const ready = async (tenant: Tenant) => {
      for (const deadline = Date.now() + SERVE_TIMEOUT_MS; Date.now() < deadline; await sleep(100)) {
        const embedded = await requestJson(`${url}/api/v1/embed`, {
          token: tenant.key,
          body: { ids: ["recovery"], documents: ["recovery after a crash or a restart"] },
        }).catch(() => ({ status: 0 }));
        if (embedded.status === 200 && (await served(url, tenant))) return;
      }
      throw new Error(`${tenant.id} never served`);
    };
    const slug = (name: string) => `bench-${name}-${Date.now().toString(36)}`;
    const restartTenant = await prepare(slug("restart"));
    const childKills: Tenant[] = [];
    const adoptedKills: Tenant[] = [];
    const chromaKills: Tenant[] = [];
    for (let i = 0; i < runs; i++) {
      childKills.push(await prepare(slug(`kill-child-${i}`)));
      adoptedKills.push(await prepare(slug(`kill-adopted-${i}`)));
      chromaKills.push(await prepare(slug(`kill-chroma-${i}`)));
    }
    log(`recovery: ${1 + 3 * runs} tenants launched; waiting until each serves`);
    for (const tenant of [restartTenant, ...childKills, ...adoptedKills, ...chromaKills]) await ready(tenant);

    const kill = async (kind: RecoveryKind, tenant: Tenant, index: number) => {
      await ready(tenant);
      const before = instancePid(dataDir, tenant.id);
      const target = kind === "chromaKillAdopted" ? childPidsOf(before)[0] : before;
      if (!target) throw new Error(`${tenant.id}: no Chroma process under instance ${before}`);
      const load1 = os.loadavg()[0]!;
      const killedAt = performance.now();
      process.kill(target, "SIGKILL");
      const states = { noticed: Number.NaN, starting: Number.NaN, running: Number.NaN };
      let isServed = false;
      const watching = (async () => {
        while (!isServed && Number.isNaN(states.running)) {
          const status = await requestJson<{ state: string }>(`${url}/api/v1/status/${tenant.id}`, {
            token: admin,
          });
          const at = performance.now() - killedAt;
          const state = status.body.state;
          if (state !== "running" && Number.isNaN(states.noticed)) states.noticed = at;
          if (state === "starting" && Number.isNaN(states.starting)) states.starting = at;
          if (state === "running" && !Number.isNaN(states.noticed)) states.running = at;
          await sleep(POLL_MS);
        }
      })();
      const servedMs = await untilServed(() => url, tenant, killedAt);
      isServed = true;
      await watching;
      const sameInstance = instancePid(dataDir, tenant.id) === before;
      samples.push({ kind, index, ownStartMs: null, servedMs, sameInstance, load1, states });
      log(
        `  ${kind} ${index}: noticed ${Math.round(states.noticed)} ms, starting ${Math.round(states.starting)} ms, running ${Math.round(states.running)} ms, served ${Math.round(servedMs)} ms`,
      );
    };

    log(`recovery: kill -9 of ${runs} instances this control plane started`);
    for (const [i, tenant] of childKills.entries()) await kill("instanceKillChild", tenant, i + 1);

    log(`recovery: ${runs} restarts (SIGTERM, then a new process)`);
    for (let i = 1; i <= runs; i++) {
      await ready(restartTenant);
      const before = instancePid(dataDir, restartTenant.id);
      await plane.stop("SIGTERM");
      plane = null;
      const load1 = os.loadavg()[0]!;
      const spawnedAt = performance.now();
      let ownStartMs = Number.NaN;
      const starting = startControlPlaneProcess(env, START_TIMEOUT_MS).then((started) => {
        ownStartMs = performance.now() - spawnedAt;
        return started;
      });
      const [started, servedMs] = await Promise.all([
        starting,
        untilServed(() => url, restartTenant, spawnedAt),
      ]);
      plane = started;
      const sameInstance = instancePid(dataDir, restartTenant.id) === before;
      samples.push({ kind: "restart", index: i, ownStartMs, servedMs, sameInstance, load1, states: null });
      log(
        `  restart ${i}: own start ${Math.round(ownStartMs)} ms, search served ${Math.round(servedMs)} ms (same instance: ${sameInstance})`,
      );
    }

    log(`recovery: kill -9 of ${runs} re-adopted instances, then of ${runs} re-adopted instances' Chroma`);
    for (const [i, tenant] of adoptedKills.entries()) await kill("instanceKillAdopted", tenant, i + 1);
    for (const [i, tenant] of chromaKills.entries()) await kill("chromaKillAdopted", tenant, i + 1);
    return { coldStartMs, samples, uptimeBefore, uptimeAfter: uptime() };
  } finally {
    // SIGINT: the platform stopped on purpose takes every instance with it.
    if (plane) await plane.stop("SIGINT");
    else killInstances(dataDir); // failed between a stop and a start: nothing would stop them
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const LABELS: Record<RecoveryKind, string> = {
  restart: "control-plane restart (SIGTERM, new process) → first search served",
  instanceKillChild: "instance kill -9 (started by this control plane) → first search served",
  instanceKillAdopted: "instance kill -9 (re-adopted after a restart) → first search served",
  chromaKillAdopted: "Chroma kill -9 (re-adopted instance) → first search served",
};

export const RESTART_GOAL_OVER_START_MS = 2_000;
export const KILL_GOAL_MS = 3_000;

/** The markdown section RESULTS.md gets for this part. */
export function renderRecovery(results: RecoveryResults): string {
  const of = (kind: RecoveryKind) => results.samples.filter((sample) => sample.kind === kind);
  const restarts = of("restart");
  const overs = restarts.map((sample) => sample.servedMs - (sample.ownStartMs ?? Number.NaN));
  const rows: { label: string; values: number[]; loads: number[] }[] = [
    {
      label: "control plane's own start at a restart (spawn → URL printed)",
      values: restarts.map((sample) => sample.ownStartMs ?? Number.NaN),
      loads: restarts.map((sample) => sample.load1),
    },
    {
      label: `**${LABELS.restart}**, from spawn`,
      values: restarts.map((sample) => sample.servedMs),
      loads: restarts.map((sample) => sample.load1),
    },
    {
      label: "**restart: first search served − own start** (goal ≤ 2000)",
      values: overs,
      loads: restarts.map((sample) => sample.load1),
    },
    ...(["instanceKillChild", "instanceKillAdopted", "chromaKillAdopted"] as const).flatMap((kind) => {
      const loads = of(kind).map((sample) => sample.load1);
      const phase = (name: "noticed" | "starting" | "running") =>
        of(kind).map((sample) => sample.states?.[name] ?? Number.NaN);
      return [
        { label: `**${LABELS[kind]}** (goal ≤ 3000)`, values: of(kind).map((s) => s.servedMs), loads },
        { label: "  kill → status no longer running (crash noticed)", values: phase("noticed"), loads },
        { label: "  kill → status starting (new process spawned)", values: phase("starting"), loads },
        { label: "  kill → status running again", values: phase("running"), loads },
      ];
    }),
  ];
  const overMedian = median(overs);
  const killMedians = (["instanceKillChild", "instanceKillAdopted", "chromaKillAdopted"] as const).map(
    (kind) => [kind, median(of(kind).map((sample) => sample.servedMs))] as const,
  );
  const verdict = (value: number, goal: number) => (value <= goal ? "met" : "**NOT met**");
  const lines = [
    "## Restarts and crashes (issue 19)",
    "",
    "A real control plane (`src/main.ts` through tsx; its instances run the compiled `apps/instance/dist`, as under `npm start`) on embedded PGlite in a fresh",
    "DATA_DIR, every timing at its default (`RECONCILE_INTERVAL_MS` 1000, `INSTANCE_HEALTHY_RESET_MS`,",
    "liveness and probe timeouts), instances on the `hash` model. “served” is the first",
    "`POST /api/v1/search` (tenant API key, polled every 20 ms) answering 200 with the tenant's record.",
    "Each kill hits a tenant of its own (a first crash: restarted without backoff). Restarts are",
    "SIGTERM (a supervisor's restart, `STOP_INSTANCES_ON_EXIT=auto` leaves instances running) and a new",
    "process on the same port and DATA_DIR.",
    "",
    `Cores: ${coresShared(os.cpus().length)}. Load average`,
    `${results.uptimeBefore} before this part, ${results.uptimeAfter} after (1 / 5 / 15 min); each sample's`,
    "1-minute load is in the last column.",
    "",
    `Cold start of the same control plane on an empty DATA_DIR (migrations included): ${ms(results.coldStartMs)} ms.`,
    "",
    `- Restart: first search served a median **${ms(overMedian)} ms** after the control plane's own start: goal ≤ ${RESTART_GOAL_OVER_START_MS} ms ${verdict(overMedian, RESTART_GOAL_OVER_START_MS)}.`,
    ...killMedians.map(
      ([kind, value]) =>
        `- ${LABELS[kind]}: median **${ms(value)} ms**: goal ≤ ${KILL_GOAL_MS} ms ${verdict(value, KILL_GOAL_MS)}.`,
    ),
    "",
    "| ms | Median | Min | Max | Samples | 1-min load at each |",
    "| --- | ---: | ---: | ---: | --- | --- |",
    ...rows.map(
      (row) =>
        `| ${row.label} | ${ms(median(row.values))} | ${ms(Math.min(...row.values))} | ${ms(Math.max(...row.values))} | ${row.values.map(ms).join(", ")} | ${row.loads.map((load) => load.toFixed(1)).join(", ")} |`,
    ),
    "",
    `Restarts served by the instance that ran before (re-adopted, not restarted): ${restarts.filter((sample) => sample.sameInstance).length} of ${restarts.length}.`,
    "",
  ];
  return lines.join("\n");
}
