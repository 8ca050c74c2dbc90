/**
 * bench/density (issue 13): how many small tenants one machine holds on the shared tier. One
 * control plane in-process (startTestServer); BENCH_DENSITY_TENANTS Free-plan tenants (1,000 by
 * default), each placed in a pool (POOL_TENANTS_MAX per pool) and given BENCH_DENSITY_RECORDS
 * records with their vectors supplied (512-d, so embedding cost stays out), plus one Starter
 * tenant on its own dedicated instance with the same records. Then every pool and the dedicated
 * instance are restarted (kill, the reconciler starts them again on their data), so Chroma has
 * no index loaded, and a random 10% of the shared tenants (and the dedicated one) search: each
 * one's first search is its cold search, the next BENCH_DENSITY_WARM its warm ones.
 *
 * Total RSS is every process of this run: this process (control plane and the bench's client)
 * and its children (pool and dedicated instances, their Chroma), from /proc.
 *
 *   BENCH_SHARED_WITH="…" pnpm --filter @vdb/bench density
 */
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { startTestServer, type TestServer, testStoreKind } from "@vdb/control-plane/testing";
import { benchLog, coresShared, fixed, machineRows, ms, percentile, positiveInt, requestJson } from "../lib";

const log = benchLog("density");
const TENANTS = positiveInt(process.env.BENCH_DENSITY_TENANTS, 1_000);
const RECORDS = positiveInt(process.env.BENCH_DENSITY_RECORDS, 100);
const WARM = positiveInt(process.env.BENCH_DENSITY_WARM, 20);
const POOL_TENANTS_MAX = positiveInt(process.env.BENCH_DENSITY_POOL_TENANTS, 500);
const CONCURRENCY = positiveInt(process.env.BENCH_DENSITY_CONCURRENCY, 8);
// The pools' bound on loaded HNSW indexes (the instance's POOL_CHROMA_HNSW_CACHE, passed down to
// the pool processes through this process's environment): enough for the tenants searched.
const HNSW_CACHE = positiveInt(process.env.POOL_CHROMA_HNSW_CACHE, 64);
process.env.POOL_CHROMA_HNSW_CACHE = String(HNSW_CACHE);
const DIMENSION = 512;
const RESULTS_FILE = new URL("./RESULTS.md", import.meta.url);
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

/** RSS in MB of this process and every descendant, with how many processes that was. */
function treeRss(root = process.pid): { mb: number; processes: number } {
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
  let kb = 0;
  let processes = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    kb += rss.get(pid) ?? 0;
    processes++;
    stack.push(...(children.get(pid) ?? []));
  }
  return { mb: kb / 1024, processes };
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
  log(`${TENANTS} shared tenants × ${RECORDS} records; load ${loadBefore}`);
  const server: TestServer = await startTestServer({
    env: {
      POOL_TENANTS_MAX: String(POOL_TENANTS_MAX),
      INSTANCE_DIMENSION: String(DIMENSION),
      RECONCILE_INTERVAL_MS: "500",
      // The bench's own calls: the operator's and the tenants' keys stay under their plan rates.
    },
  });
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

  const launch = async (tenant: Tenant) => {
    const launched = await call("/launch", server.adminToken, { tenantId: tenant.id });
    if (launched.status >= 300) throw new Error(`launch ${tenant.id}: ${JSON.stringify(launched.body)}`);
  };
  // The first alone (it makes the first pool), then `CONCURRENCY` at a time.
  await launch(shared[0]!);
  await each([...shared.slice(1), dedicated], CONCURRENCY, launch);
  log(`launched in ${((Date.now() - started) / 1000).toFixed(0)} s since the start`);
  const untilAllRunning = async () => {
    for (;;) {
      const states = await Promise.all(
        [shared[0]!, shared.at(-1)!, dedicated].map(
          async (t) => (await call(`/status/${t.id}`, server.adminToken)).body.state,
        ),
      );
      const rows = await server.services.db.query.instances.findMany();
      if (states.every((s) => s === "running") && rows.every((row) => row.state === "running")) return rows;
      await sleep(200);
    }
  };
  const instanceRows = await untilAllRunning();
  const pools = instanceRows.filter((row) => row.kind === "pool");
  log(`${pools.length} pools and 1 dedicated instance running`);

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
  const rssLoaded = treeRss();

  // Restart every pool and the dedicated instance on their data: nothing loaded in Chroma.
  const { runtime } = server.services;
  for (const handle of await runtime.list()) process.kill(Number(handle.ref), "SIGKILL");
  await sleep(1_000);
  await untilAllRunning();
  await sleep(3_000);
  const rssIdle = treeRss();
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
  const rssAfter = treeRss();
  // Each instance's share (its Node process and its Chroma), found by URL among the runtime's handles.
  const rows = await server.services.db.query.instances.findMany();
  const handles = await runtime.list();
  const rssOf = (kind: string) =>
    rows
      .filter((row) => row.kind === kind)
      .map((row) => handles.find((handle) => handle.url === row.url))
      .map((handle) => (handle ? treeRss(Number(handle.ref)).mb : 0));
  const poolRss = rssOf("pool");
  // How the searched tenants fell among the pools (each pool's Chroma keeps HNSW_CACHE loaded).
  const placements = await server.services.db.query.poolPlacements.findMany();
  const poolOf = new Map(placements.map((placement) => [placement.tenantId, placement.poolId]));
  const searchedPerPool = rows
    .filter((row) => row.kind === "pool")
    .map((pool) => sample.filter((tenant) => poolOf.get(tenant.id) === pool.tenantId).length);
  const dedicatedRss = rssOf("dedicated").reduce((a, b) => a + b, 0);
  const restRss = rssAfter.mb - dedicatedRss - poolRss.reduce((a, b) => a + b, 0);
  const loadAfter = load();
  log(`done; 5xx ${fiveXx}`);

  const row = (label: string, t: { cold: number[]; warm: number[] }, n: number) =>
    `| ${label} | ${n} | ${ms(percentile(t.cold, 50))} / ${ms(percentile(t.cold, 99))} | ${fixed(percentile(t.warm, 50), 1)} / ${fixed(percentile(t.warm, 99), 1)} |`;
  const table = `# bench/density

Shared tier (issue 13): ${TENANTS} Free-plan tenants × ${RECORDS} records (${DIMENSION}-d vectors supplied) in
${pools.length} pool(s) of at most ${POOL_TENANTS_MAX} (each Chroma keeping at most ${HNSW_CACHE} HNSW indexes loaded:
POOL_CHROMA_HNSW_CACHE), and one Starter tenant on a dedicated instance, in one run.
Searches after every instance was killed and restarted on its data: a random ${sample.length} shared tenants
(10%) and the dedicated one, each its first (cold) search, then ${WARM} warm rounds. Goals: total RSS ≤ 4 GB,
warm p99 ≤ 50 ms, cold first search ≤ 300 ms, no 5xx.

| | |
| --- | --- |
${machineRows()}
| Cores | ${coresShared(os.cpus().length)} |
| Store | ${testStoreKind()} |
| Load average (1/5/15 min) | before ${loadBefore}; after ${loadAfter} |

| total RSS of every VDB process (MB) | processes | |
| --- | --- | --- |
| after writing all records | ${fixed(rssLoaded.mb, 0)} | ${rssLoaded.processes} |
| after the restart, idle | ${fixed(rssIdle.mb, 0)} | ${rssIdle.processes} |
| after the searches | ${fixed(rssAfter.mb, 0)} | ${rssAfter.processes} |
| of which, after the searches: each pool (instance + its Chroma) | ${poolRss.map((mb) => fixed(mb, 0)).join(", ")} | 2 each |
| of which: the dedicated tenant (instance + its Chroma) | ${fixed(dedicatedRss, 0)} | 2 |
| of which: this process (control plane, bench client) | ${fixed(restRss, 0)} | 1 |

Searched tenants per pool, in the order of the pool RSS above: ${searchedPerPool.join(", ")}.

| tenants searched | n | cold first search p50 / p99 (ms) | warm p50 / p99 (ms) |
| --- | --- | --- | --- |
${row("shared (pools)", sharedTimes, sample.length)}
${row("dedicated (own instance)", dedicatedTimes, 1)}

5xx answers over the whole run: ${fiveXx}; 429s to the setup's calls, waited out and retried: ${rateLimited}. Writing ${TENANTS + 1} tenants' records took ${ingestSeconds.toFixed(0)} s
(${CONCURRENCY} at a time). RSS includes this bench process (control plane in-process plus the bench's client).

Command: \`BENCH_SHARED_WITH="…" BENCH_DENSITY_TENANTS=${TENANTS} pnpm --filter @vdb/bench density\`
`;
  await writeFile(RESULTS_FILE, table);
  console.log(table);
  await server.close();
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
