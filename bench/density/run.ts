/**
 * bench/density (issue 13): how many small tenants one machine holds on the shared tier. The
 * control plane runs as production runs it: its own process, compiled (`dist/main.mjs`, embedded
 * PGlite or PostgreSQL), starting compiled instances; this script is only its HTTP client.
 * BENCH_DENSITY_TENANTS Free-plan tenants (1,000 by default), each placed in a pool
 * (BENCH_DENSITY_POOL_TENANTS per pool) and given BENCH_DENSITY_RECORDS records with their
 * vectors supplied (512-d, so embedding cost stays out), plus one Starter tenant on its own
 * dedicated instance with the same records. Then every pool and the dedicated instance are
 * restarted (kill, the reconciler starts them again on their data), so Chroma has no index
 * loaded, and a random 10% of the shared tenants (and the dedicated one) search: each one's
 * first search is its cold search, the next BENCH_DENSITY_WARM its warm ones.
 *
 * Total RSS is everything VDB runs: the control-plane process and its descendants (pool and
 * dedicated instances, their Chroma, the parse sandbox), from /proc. This script's own RSS (the
 * client) is shown beside it, not counted.
 *
 *   BENCH_SHARED_WITH="…" pnpm --filter @vdb/bench density
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_EMAIL, ADMIN_PASSWORD, testStoreKind } from "@vdb/control-plane/testing";
import { restartablePlane } from "@vdb/control-plane/testing/process";
import { InstanceConfigSchema, poolHnswCacheCapacity } from "@vdb/instance/config";
import { benchLog, coresShared, fixed, machineRows, ms, percentile, positiveInt, requestJson } from "../lib";

const log = benchLog("density");
const TENANTS = positiveInt(process.env.BENCH_DENSITY_TENANTS, 1_000);
const RECORDS = positiveInt(process.env.BENCH_DENSITY_RECORDS, 100);
const WARM = positiveInt(process.env.BENCH_DENSITY_WARM, 20);
const POOL_TENANTS_MAX = positiveInt(process.env.BENCH_DENSITY_POOL_TENANTS, 500);
const CONCURRENCY = positiveInt(process.env.BENCH_DENSITY_CONCURRENCY, 8);
// The pools' memory for loaded HNSW indexes (the instance's POOL_CHROMA_INDEX_MEMORY_MB, passed
// down to the pool processes through the control plane's environment): the platform's default
// unless set. Like POOL_TENANTS_MAX above (500), it leaves room for more than the tenants
// searched in a pool (10% of its tenants).
const INDEX_MEMORY_MB = InstanceConfigSchema.shape.POOL_CHROMA_INDEX_MEMORY_MB.parse(
  process.env.POOL_CHROMA_INDEX_MEMORY_MB,
);
const DIMENSION = 512;
const HNSW_CACHE = poolHnswCacheCapacity({
  POOL_CHROMA_INDEX_MEMORY_MB: INDEX_MEMORY_MB,
  POOL_CHROMA_HNSW_CACHE: undefined,
  DIMENSION,
});
const RESULTS_FILE = new URL("./RESULTS.md", import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Tenant = { id: string; key: string };

/** Runs `work` over `items`, `limit` at a time. */
async function each<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

/** Every process's parent and RSS (kB), from /proc. */
function processTable(): { children: Map<number, number[]>; rss: Map<number, number> } {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      rss.set(Number(entry), kb);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  return { children, rss };
}

/** RSS in MB of `root` and every descendant, with how many processes that was. */
function treeRss(root: number, table = processTable()): { mb: number; processes: number } {
  let kb = 0;
  let processes = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    kb += table.rss.get(pid) ?? 0;
    processes++;
    stack.push(...(table.children.get(pid) ?? []));
  }
  return { mb: kb / 1024, processes };
}

/** The control plane's instance processes (its children running apps/instance), by the id they serve. */
function instanceProcesses(
  controlPlanePid: number,
): { pid: number; poolId: string | null; tenantId: string | null }[] {
  const found = [];
  for (const pid of processTable().children.get(controlPlanePid) ?? []) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("apps/instance/")) continue;
      const env = new Map(
        readFileSync(`/proc/${pid}/environ`, "utf8")
          .split("\0")
          .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)] as const),
      );
      found.push({ pid, poolId: env.get("POOL_ID") || null, tenantId: env.get("TENANT_ID") || null });
    } catch {
      // it ended meanwhile
    }
  }
  return found;
}

function vector(seed: number): number[] {
  let x = seed * 9301 + 49297;
  return Array.from({ length: DIMENSION }, () => {
    x = (x * 9301 + 49297) % 233280;
    return x / 233280 - 0.5;
  });
}

async function main() {
  const load = () =>
    os
      .loadavg()
      .map((v) => v.toFixed(1))
      .join(" / ");
  const loadBefore = load();
  log("building apps/instance/dist and apps/control-plane/dist");
  for (const app of ["apps/instance", "apps/control-plane"]) {
    execFileSync(process.execPath, ["build.mjs"], { cwd: path.join(ROOT, app), stdio: "inherit" });
  }
  log(`${TENANTS} shared tenants × ${RECORDS} records; load ${loadBefore}`);
  const restartable = await restartablePlane(
    "bench-density",
    {
      // Vectors are supplied: the model only names the instances' dimension (the lightest one).
      INSTANCE_DIMENSION: String(DIMENSION),
      POOL_TENANTS_MAX: String(POOL_TENANTS_MAX),
      POOL_CHROMA_INDEX_MEMORY_MB: String(INDEX_MEMORY_MB),
      RECONCILE_INTERVAL_MS: "500",
      JOB_LEASE_MS: "30000",
      // The dedicated tenant stays awake between its write and its searches.
      INSTANCE_SLEEP_AFTER_IDLE_MS: "0",
      LOG_LEVEL: "warn",
    },
    // As production: compiled, and a first run's own store (initdb in its child process).
    { compiled: true, initdb: true },
  );
  const plane = await restartable.start(180_000);
  const planePid = plane.child.pid!;
  // The peak of everything VDB runs, sampled every second over the whole run.
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, treeRss(planePid).mb);
  }, 1_000);
  const stopSampling = () => clearInterval(sampler);
  const server = { url: plane.url, adminToken: "" };
  const login = await requestJson<{ token: string }>(`${plane.url}/api/v1/auth/login`, {
    body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  server.adminToken = login.body.token;
  let rateLimited = 0;
  // biome-ignore lint/suspicious/noExplicitAny: the answers are read loosely, as in the other benches
  const call = <T = any>(path: string, token: string, body?: unknown, method?: string) =>
    requestJson<T>(`${server.url}/api/v1${path}`, {
      token,
      body,
      ...(method ? { method } : {}),
      onRateLimited: () => rateLimited++,
    });
  let fiveXx = 0;
  const count5xx = (status: number) => {
    if (status >= 500) fiveXx++;
  };

  const createTenant = async (slug: string, plan: string): Promise<Tenant> => {
    const tenant = await call("/tenants", server.adminToken, { slug, name: slug, plan });
    if (tenant.status !== 201) throw new Error(`tenant ${slug}: ${JSON.stringify(tenant.body)}`);
    const key = await call(`/tenants/${tenant.body.id}/keys`, server.adminToken, {
      name: "bench",
      scopes: ["read", "write"],
    });
    if (key.status !== 201) throw new Error(`key ${slug}: ${JSON.stringify(key.body)}`);
    return { id: tenant.body.id, key: key.body.secret };
  };

  const started = Date.now();
  const shared: Tenant[] = new Array(TENANTS);
  await each([...Array(TENANTS).keys()], CONCURRENCY, async (i) => {
    shared[i] = await createTenant(`density-${i}`, "free");
  });
  const dedicated = await createTenant("density-dedicated", "starter");
  log(`tenants created in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  // Each shared tenant's pool, as its instance status names it.
  const poolOf = new Map<string, string>();
  const launch = async (tenant: Tenant) => {
    const launched = await call("/launch", server.adminToken, { tenantId: tenant.id });
    if (launched.status >= 300) throw new Error(`launch ${tenant.id}: ${JSON.stringify(launched.body)}`);
    if (launched.body.poolId) poolOf.set(tenant.id, launched.body.poolId);
  };
  // The first alone (it makes the first pool), then `CONCURRENCY` at a time.
  await launch(shared[0]!);
  await each([...shared.slice(1), dedicated], CONCURRENCY, launch);
  await each(
    shared.filter((tenant) => !poolOf.has(tenant.id)),
    CONCURRENCY,
    async (tenant) => {
      const status = await call(`/status/${tenant.id}`, server.adminToken);
      if (!status.body.poolId) throw new Error(`${tenant.id} has no pool: ${JSON.stringify(status.body)}`);
      poolOf.set(tenant.id, status.body.poolId);
    },
  );
  log(`launched in ${((Date.now() - started) / 1000).toFixed(0)} s since the start`);
  const poolIds = [...new Set(poolOf.values())];
  // One tenant per pool, and the dedicated one: when they all answer `running`, every instance does.
  const witnesses = [...poolIds.map((poolId) => shared.find((t) => poolOf.get(t.id) === poolId)!), dedicated];
  const untilAllRunning = async () => {
    for (;;) {
      const states = await Promise.all(
        witnesses.map(async (t) => (await call(`/status/${t.id}`, server.adminToken)).body.state),
      );
      if (states.every((s) => s === "running") && instanceProcesses(planePid).length === witnesses.length)
        return;
      await sleep(200);
    }
  };
  await untilAllRunning();
  log(`${poolIds.length} pools and 1 dedicated instance running`);

  const ingestStarted = Date.now();
  // Chroma makes one new collection's index at a time (~1 s each on a busy machine, whatever
  // the concurrency): tenant i and i + POOL_TENANTS_MAX, most likely in different pools, are
  // written side by side, so every pool's Chroma works at once.
  const writes = [...shared, dedicated]
    .map((tenant, t) => ({ tenant, t }))
    .sort((a, b) => (a.t % POOL_TENANTS_MAX) - (b.t % POOL_TENANTS_MAX) || a.t - b.t);
  await each(writes, CONCURRENCY, async ({ tenant, t }) => {
    const ids = Array.from({ length: RECORDS }, (_, i) => `rec-${i}`);
    const body = {
      ids,
      documents: ids.map((id) => `record ${id} of tenant ${t}`),
      embeddings: ids.map((_, i) => vector(t * RECORDS + i)),
    };
    // A 5xx is counted (it misses the goal) and the write tried again, so the searches find records.
    for (let attempt = 1; ; attempt++) {
      const res = await call("/embed", tenant.key, body);
      count5xx(res.status);
      if (res.status === 200) break;
      if (res.status < 500 || attempt === 3) {
        throw new Error(`embed ${tenant.id}: ${res.status} ${JSON.stringify(res.body)}`);
      }
      log(`embed ${tenant.id}: ${res.status} ${JSON.stringify(res.body)}; again`);
    }
  });
  const ingestSeconds = (Date.now() - ingestStarted) / 1000;
  log(`records written in ${ingestSeconds.toFixed(0)} s`);
  await sleep(3_000);
  const rssLoaded = treeRss(planePid);

  // Restart every pool and the dedicated instance on their data: nothing loaded in Chroma. (A
  // killed instance's Chroma is ended by the next instance on the same data directory.)
  for (const instance of instanceProcesses(planePid)) process.kill(instance.pid, "SIGKILL");
  await sleep(1_000);
  await untilAllRunning();
  await sleep(3_000);
  const rssIdle = treeRss(planePid);
  log(`restarted; idle RSS ${rssIdle.mb.toFixed(0)} MB over ${rssIdle.processes} processes`);

  // A uniform sample (Fisher-Yates): sorting with a random comparator keeps elements near their
  // places, and so favoured the first pool's tenants (76 of 100 in one run, past its 64 indexes).
  const sample = shuffled(shared).slice(0, Math.max(1, Math.round(TENANTS / 10)));
  const search = async (tenant: Tenant, seed: number) => {
    const before = performance.now();
    // Not retried on 429: a timed search must be one request (a 429 would fail the run).
    const res = await requestJson(`${server.url}/api/v1/search`, {
      token: tenant.key,
      body: { queryEmbedding: vector(seed), nResults: 10 },
    });
    const took = performance.now() - before;
    count5xx(res.status);
    if (res.status !== 200) throw new Error(`search ${tenant.id}: ${res.status} ${JSON.stringify(res.body)}`);
    return took;
  };
  const measure = async (tenants: Tenant[]) => {
    const cold: number[] = [];
    const warm: number[] = [];
    for (const tenant of tenants) cold.push(await search(tenant, 1));
    for (let round = 0; round < WARM; round++) {
      for (const tenant of tenants) warm.push(await search(tenant, round + 2));
    }
    return { cold: cold.sort((a, b) => a - b), warm: warm.sort((a, b) => a - b) };
  };
  const sharedTimes = await measure(sample);
  const dedicatedTimes = await measure([dedicated]);
  const table = processTable();
  const rssAfter = treeRss(planePid, table);
  // Each instance's share (its Node process and its Chroma).
  const instances = instanceProcesses(planePid);
  const poolRss = poolIds.map((poolId) => {
    const instance = instances.find((i) => i.poolId === poolId);
    return instance ? treeRss(instance.pid, table).mb : 0;
  });
  const dedicatedRss = instances
    .filter((i) => i.tenantId === dedicated.id)
    .reduce((sum, i) => sum + treeRss(i.pid, table).mb, 0);
  const planeOwnRss = (table.rss.get(planePid) ?? 0) / 1024;
  const otherRss = rssAfter.mb - planeOwnRss - dedicatedRss - poolRss.reduce((a, b) => a + b, 0);
  const clientRss = (table.rss.get(process.pid) ?? 0) / 1024;
  // How the searched tenants fell among the pools (each pool's Chroma keeps HNSW_CACHE loaded).
  const searchedPerPool = poolIds.map(
    (poolId) => sample.filter((tenant) => poolOf.get(tenant.id) === poolId).length,
  );
  stopSampling();
  peakRss = Math.max(peakRss, rssLoaded.mb, rssIdle.mb, rssAfter.mb);
  const loadAfter = load();
  log(`done; 5xx ${fiveXx}`);

  const row = (label: string, t: { cold: number[]; warm: number[] }, n: number) =>
    `| ${label} | ${n} | ${ms(percentile(t.cold, 50))} / ${ms(percentile(t.cold, 99))} | ${fixed(percentile(t.warm, 50), 1)} / ${fixed(percentile(t.warm, 99), 1)} |`;
  const results = `# bench/density

Shared tier (issue 13): ${TENANTS} Free-plan tenants × ${RECORDS} records (${DIMENSION}-d vectors supplied) in
${poolIds.length} pool(s) of at most ${POOL_TENANTS_MAX} (POOL_TENANTS_MAX; each Chroma keeping at most ${HNSW_CACHE} HNSW indexes
loaded: POOL_CHROMA_INDEX_MEMORY_MB ${INDEX_MEMORY_MB}), and one Starter tenant on a dedicated instance, in one run. The control plane
runs as in production: its own process, compiled (\`dist/main.mjs\`, ${testStoreKind()}), with compiled instances.
Searches after every instance was killed and restarted on its data: a random ${sample.length} shared tenants
(10%) and the dedicated one, each its first (cold) search, then ${WARM} warm rounds. Goals: total RSS ≤ 4 GB,
warm p99 ≤ 50 ms, cold first search ≤ 300 ms, no 5xx.

| | |
| --- | --- |
${machineRows()}
| Cores | ${coresShared(os.cpus().length)} |
| Store | ${testStoreKind()} |
| Load average (1/5/15 min) | before ${loadBefore}; after ${loadAfter} |

| total RSS of everything VDB runs (MB): the control plane and its descendants | MB | processes |
| --- | --- | --- |
| **peak over the whole run** (sampled every second, and the moments below) | **${fixed(peakRss, 0)}** | |
| after writing all records | ${fixed(rssLoaded.mb, 0)} | ${rssLoaded.processes} |
| after the restart, idle | ${fixed(rssIdle.mb, 0)} | ${rssIdle.processes} |
| after the searches | ${fixed(rssAfter.mb, 0)} | ${rssAfter.processes} |
| of which, after the searches: each pool (instance + its Chroma) | ${poolRss.map((mb) => fixed(mb, 0)).join(", ")} | 2 each |
| of which: the dedicated tenant (instance + its Chroma) | ${fixed(dedicatedRss, 0)} | 2 |
| of which: the control plane's own process | ${fixed(planeOwnRss, 0)} | 1 |
| of which: anything else it runs (the parse sandbox, idle) | ${fixed(otherRss, 0)} | ${rssAfter.processes - 2 * (poolRss.length + 1) - 1} |
| not counted: this bench's client process | ${fixed(clientRss, 0)} | 1 |

Searched tenants per pool, in the order of the pool RSS above: ${searchedPerPool.join(", ")}.

| tenants searched | n | cold first search p50 / p99 (ms) | warm p50 / p99 (ms) |
| --- | --- | --- | --- |
${row("shared (pools)", sharedTimes, sample.length)}
${row("dedicated (own instance)", dedicatedTimes, 1)}

5xx answers over the whole run: ${fiveXx}; 429s to the setup's calls, waited out and retried: ${rateLimited}. Writing ${TENANTS + 1} tenants' records took ${ingestSeconds.toFixed(0)} s
(${CONCURRENCY} at a time).

Command: \`BENCH_SHARED_WITH="…" BENCH_DENSITY_TENANTS=${TENANTS} pnpm --filter @vdb/bench density\`
`;
  await writeFile(RESULTS_FILE, results);
  console.log(results);
  await restartable.dispose("SIGINT");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/** A uniformly shuffled copy of `items` (Fisher-Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
