/**
 * bench/search: what the instance and the control plane add to a Chroma query.
 *
 * One control plane (startTestServer), one tenant, one local instance (its own `chroma run`),
 * one collection of 10,000 random 64-d vectors with short documents and metadata. The same
 * 100 query vectors (nResults 10, documents + metadatas + distances) go three ways:
 *   (a) straight at Chroma's v2 query endpoint,
 *   (b) at the instance's /search with an instance token,
 *   (c) at the control plane's /api/v1/search with an API key,
 * each at 1 and 8 concurrent connections. autocannon runs in a worker thread and every
 * response's latency is kept as a float (see load.ts), so p50/p99 are sub-millisecond.
 *
 * Env: BENCH_SECONDS (per case, default 8, split over BENCH_ROUNDS interleaved rounds, default 2),
 * BENCH_WARMUP_SECONDS (per path, default 2).
 */

import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer, testStoreKind } from "@vdb/control-plane/testing";
import { benchLog, callJson, cpuSecondsOf, fixed, percentile, positiveInt, signed } from "../lib";
import { type BareProxy, startBareProxy } from "./bare-proxy";
import { type LoadJob, type LoadResult, runLoad } from "./load";

const log = benchLog("search");

const SECONDS = positiveInt(process.env.BENCH_SECONDS, 16);
const WARMUP_SECONDS = positiveInt(process.env.BENCH_WARMUP_SECONDS, 2);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 8);
const CONNECTIONS = [1, 8] as const;
const VECTORS = 10_000;
const DIMENSION = 64; // the harness's INSTANCE_DIMENSION
const LOAD_BATCH = 1_000; // keeps each /embed body under the control plane's 1 MiB limit
const QUERIES = 100;
const N_RESULTS = 10;
const INCLUDE = ["documents", "metadatas", "distances"] as const;
const GOAL_P50_ADDED_MS = 1.5;
const GOAL_QPS_RATIO = 0.8;
const RECONCILE_INTERVAL_MS = 1_000;
const CHROMA_COLLECTIONS = "/api/v2/tenants/default_tenant/databases/default_database/collections";
const RESULTS_FILE = new URL("./RESULTS.md", import.meta.url);

type PathName = "chroma" | "instance" | "control-plane" | "chroma-get" | "bare-proxy" | "two-bare-hops";

interface Target {
  name: PathName;
  label: string;
  /** Informational rows take no part in the goal or the ratios' baseline. */
  informational: boolean;
  job: Omit<LoadJob, "connections" | "seconds">;
}

/** CPU time (ms) each process spent per answered query during a case. */
interface CpuPerQuery {
  chroma: number;
  instance: number;
  controlPlane: number;
}

interface Row {
  target: Target;
  connections: number;
  cpu: CpuPerQuery;
  qps: number;
  p50: number;
  p90: number;
  p99: number;
  result: LoadResult;
}

/** Deterministic vectors, so every run searches the same collection with the same queries. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomVectors(count: number, seed: number): number[][] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: DIMENSION }, () => Math.round((random() * 2 - 1) * 10_000) / 10_000),
  );
}

/** One result from several rounds of the same case: samples pooled, QPS over the summed time. */
function pool(results: LoadResult[]): LoadResult {
  const latencies = new Float64Array(results.reduce((n, r) => n + r.latencies.length, 0));
  let offset = 0;
  for (const r of results) {
    latencies.set(r.latencies, offset);
    offset += r.latencies.length;
  }
  latencies.sort();
  const statuses: Record<string, number> = {};
  for (const r of results) {
    for (const [code, count] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + count;
  }
  const ok = results.reduce((n, r) => n + r.ok, 0);
  const elapsedSeconds = results.reduce((n, r) => n + r.elapsedSeconds, 0);
  return {
    latencies,
    qps: ok / elapsedSeconds,
    ok,
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    statuses,
    elapsedSeconds,
  };
}

async function waitUntilRunning(server: TestServer, tenantId: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = "none";
  while (Date.now() < deadline) {
    const status = await callJson<{ state: string; url: string | null; lastError: string | null }>(
      `${server.url}/api/v1/status/${tenantId}`,
      { token: server.adminToken },
    );
    last = `${status.state}${status.lastError ? ` (${status.lastError})` : ""}`;
    if (status.state === "running" && status.url) return status.url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`instance not running within ${timeoutMs} ms; last state: ${last}`);
}

/** The instance logs its Chroma's URL in its `instance listening` line (printed at any LOG_LEVEL). */
async function chromaUrlOf(server: TestServer, tenantId: string): Promise<string> {
  const file = path.join(server.config.DATA_DIR, "instances", tenantId, "instance.log");
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    if (!line.includes('"instance listening"')) continue;
    const parsed = JSON.parse(line) as { chroma?: { url?: string } };
    if (parsed.chroma?.url) return parsed.chroma.url;
  }
  throw new Error(`no "instance listening" line with a Chroma URL in ${file}`);
}

/** The Chroma and instance processes' pids, from the instance's `instance listening` line. */
async function pidsOf(server: TestServer, tenantId: string): Promise<{ chroma: number; instance: number }> {
  const file = path.join(server.config.DATA_DIR, "instances", tenantId, "instance.log");
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    if (!line.includes('"instance listening"')) continue;
    const parsed = JSON.parse(line) as { pid?: number; chroma?: { pid?: number } };
    if (parsed.pid && parsed.chroma?.pid) return { instance: parsed.pid, chroma: parsed.chroma.pid };
  }
  throw new Error(`no "instance listening" line with pids in ${file}`);
}

/**
 * A bare proxy in a process of its own (a real hop is a process of its own: the control plane,
 * the instance), forwarding to `target`.
 */
async function spawnBareProxy(target: string): Promise<BareProxy> {
  const script = fileURLToPath(new URL("./bare-proxy.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), script, target], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bare proxy exited (${code}) before listening`)));
    child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
  });
  child.removeAllListeners("exit");
  return {
    url,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      await exited;
    },
  };
}

function idsOf(path: PathName, body: unknown): string[] {
  if (path === "chroma" || path === "two-bare-hops") return (body as { ids: string[][] }).ids[0] ?? [];
  return (body as { results: { id: string }[] }).results.map((hit) => hit.id);
}

function renderResults(input: {
  date: Date;
  storeKind: string;
  loadAverage: number[];
  loadSeconds: number;
  rows: Row[];
}): string {
  const { rows } = input;
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown";
  const find = (name: PathName, connections: number) =>
    rows.find((r) => r.target.name === name && r.connections === connections);
  const verdicts = CONNECTIONS.map((connections) => {
    const a = find("chroma", connections);
    const c = find("control-plane", connections);
    const e = find("two-bare-hops", connections);
    const added = a && c ? c.p50 - a.p50 : Number.NaN;
    const ratio = a && c ? c.qps / a.qps : Number.NaN;
    const floorAdded = a && e ? e.p50 - a.p50 : Number.NaN;
    const floorRatio = a && e ? e.qps / a.qps : Number.NaN;
    return {
      connections,
      added,
      ratio,
      floorAdded,
      floorRatio,
      latencyMet: added <= GOAL_P50_ADDED_MS,
      qpsMet: ratio >= GOAL_QPS_RATIO,
      latencyReachable: floorAdded <= GOAL_P50_ADDED_MS,
      qpsReachable: floorRatio >= GOAL_QPS_RATIO,
    };
  });
  // Goal cells missed that even two do-nothing hops (e) miss: out of reach for this path's shape here.
  const missed = verdicts.flatMap((v) => [
    ...(v.latencyMet ? [] : [{ connections: v.connections, measure: "p50", reachable: v.latencyReachable }]),
    ...(v.qpsMet ? [] : [{ connections: v.connections, measure: "QPS", reachable: v.qpsReachable }]),
  ]);
  const describe = (cells: typeof missed) =>
    cells
      .map((m) => `${m.measure} at ${m.connections} connection${m.connections === 1 ? "" : "s"}`)
      .join(", ");
  const lines = [
    "# bench/search — results",
    "",
    "Generated by `pnpm --filter @vdb/bench search` (`bench/search/run.ts`); overwritten on every run.",
    "",
    "| | |",
    "| --- | --- |",
    `| Date | ${input.date.toISOString()} |`,
    `| Node | ${process.version} |`,
    `| CPU | ${cpu} |`,
    `| Cores | ${os.cpus().length} (client, control plane, instance and Chroma all share them) |`,
    `| Load average at start | ${input.loadAverage.map((v) => v.toFixed(2)).join(" / ")} (1 / 5 / 15 min) |`,
    `| Store | ${input.storeKind} |`,
    `| Collection | ${VECTORS.toLocaleString("en-US")} random ${DIMENSION}-d vectors (cosine), each with a short document and 2 metadata fields; loaded through \`/api/v1/embed\` in batches of ${LOAD_BATCH} in ${fixed(input.loadSeconds, 1)} s |`,
    `| Queries | ${QUERIES} fixed random vectors, cycled by every connection; nResults ${N_RESULTS}; include ${INCLUDE.join(", ")} |`,
    `| Runs | autocannon in a worker thread; ${ROUNDS} interleaved round(s) of ${Math.max(1, Math.round(SECONDS / ROUNDS))} s per case (samples pooled), after a ${WARMUP_SECONDS} s warm-up per path at 8 connections |`,
    "| Latency | every 2xx response's own hrtime duration (float ms), not autocannon's whole-ms histogram |",
    "| QPS | 2xx responses / elapsed seconds of the case |",
    "",
    "## Goal",
    "",
    `Through the control plane (c), p50 within ${GOAL_P50_ADDED_MS} ms of Chroma direct (a), and QPS at least`,
    `${GOAL_QPS_RATIO * 100}% of (a) (issue 3).`,
    "",
    "The columns marked (e) are the floor: what two do-nothing Node hops in front of Chroma reach on this",
    "machine (row e below). The path under test has that shape (client → control plane → instance → Chroma,",
    "each its own process), so a cell whose floor misses the goal cannot be met here by any implementation.",
    "",
    "| Conns | (c) p50 − (a) p50 | ≤ 1.5 ms? | floor (e) − (a) | (c) QPS / (a) QPS | ≥ 80%? | floor (e) / (a) |",
    "| ---: | ---: | --- | ---: | ---: | --- | ---: |",
    ...verdicts.map(
      (v) =>
        `| ${v.connections} | ${signed(v.added, 2)} ms | ${v.latencyMet ? "met" : "**NOT met**"} | ${signed(v.floorAdded, 2)} ms | ${fixed(v.ratio * 100, 0)}% | ${v.qpsMet ? "met" : "**NOT met**"} | ${fixed(v.floorRatio * 100, 0)}% |`,
    ),
    "",
    missed.length === 0
      ? "**Goal met** at 1 and 8 connections, on both measures."
      : [
          `**Goal NOT met**: ${describe(missed)}.`,
          missed.some((m) => m.reachable)
            ? ` Within the floor, so the control plane or the instance is what stands in the way: ${describe(missed.filter((m) => m.reachable))}.`
            : "",
          missed.some((m) => !m.reachable)
            ? ` Below the floor, out of reach on this machine: ${describe(missed.filter((m) => !m.reachable))}.`
            : "",
        ].join(""),
    "",
    "## Results",
    "",
    "Ratios and differences are against (a) Chroma direct at the same connection count.",
    "",
    "| Path | Conns | QPS | p50 ms | p90 ms | p99 ms | QPS vs (a) | p50 vs (a) ms | p99 vs (a) ms | non-2xx |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    const a = find("chroma", row.connections);
    const isBaseline = row.target.name === "chroma" || row.target.informational;
    const ratio = a && !isBaseline ? fixed(row.qps / a.qps, 2) : "—";
    const p50 = a && !isBaseline ? signed(row.p50 - a.p50, 2) : "—";
    const p99 = a && !isBaseline ? signed(row.p99 - a.p99, 2) : "—";
    lines.push(
      `| ${row.target.label} | ${row.connections} | ${fixed(row.qps, 0)} | ${fixed(row.p50, 2)} | ${fixed(row.p90, 2)} | ${fixed(row.p99, 2)} | ${ratio} | ${p50} | ${p99} | ${row.result.non2xx} |`,
    );
  }
  lines.push(
    "",
    "## Per hop (p50 added, ms)",
    "",
    "| Conns | Instance over Chroma (b − a) | Control plane over instance (c − b) | Total (c − a) | Bare Node proxy over instance (d − b) | Two bare hops over Chroma (e − a) | Chroma get-collection alone |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const connections of CONNECTIONS) {
    const a = find("chroma", connections);
    const b = find("instance", connections);
    const c = find("control-plane", connections);
    const g = find("chroma-get", connections);
    const d = find("bare-proxy", connections);
    const e = find("two-bare-hops", connections);
    if (!a || !b || !c) continue;
    lines.push(
      `| ${connections} | ${signed(b.p50 - a.p50, 2)} | ${signed(c.p50 - b.p50, 2)} | ${signed(c.p50 - a.p50, 2)} | ${d ? signed(d.p50 - b.p50, 2) : "n/a"} | ${e ? signed(e.p50 - a.p50, 2) : "n/a"} | ${g ? fixed(g.p50, 2) : "n/a"} |`,
    );
  }
  lines.push(
    "",
    "## CPU per query (ms of CPU time per answered query, from /proc)",
    "",
    "What each process spent, divided by the queries answered in the case; it includes whatever else the process",
    "did meanwhile (the control plane's reconciler and pollers, for one). At 8 connections the cores are the limit,",
    "so QPS follows the total.",
    "",
    "| Path | Conns | Chroma | Instance | Control plane | Total | vs (a) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows
      // (e)'s proxies are processes of their own, measured by none of these columns.
      .filter((row) => row.target.name !== "chroma-get" && row.target.name !== "two-bare-hops")
      .map((row) => {
        const total = row.cpu.chroma + row.cpu.instance + row.cpu.controlPlane;
        const a = find("chroma", row.connections);
        const baseline = a ? a.cpu.chroma + a.cpu.instance + a.cpu.controlPlane : Number.NaN;
        const ratio = row.target.name === "chroma" ? "—" : `${fixed(total / baseline, 2)}×`;
        return `| ${row.target.label} | ${row.connections} | ${fixed(row.cpu.chroma, 3)} | ${fixed(row.cpu.instance, 3)} | ${fixed(row.cpu.controlPlane, 3)} | ${fixed(total, 3)} | ${ratio} |`;
      }),
    "",
    "## What each path does",
    "",
    `- **(a) Chroma direct**: \`POST {chroma}${CHROMA_COLLECTIONS}/{collectionId}/query\` with \`query_embeddings\`, \`n_results\`, \`include\`; Chroma's own loopback port, no auth. One HTTP hop.`,
    "- **(b) Instance**: `POST {instance}/search` with an instance token (`/api/v1/generate-token`, scope read). The instance checks the token (ES256-verified once, then remembered for up to a minute), validates the body (zod), takes the collection handle from its 5 s cache (so a `getCollection` round trip to Chroma at most every 5 s), sends one query to Chroma's REST endpoint over kept-alive `node:http` connections, and reshapes the answer into `results[]`.",
    "- **(c) Control plane**: `POST /api/v1/search` with the API key. Key check (cached), the per-key rate limit (in memory; the tenant is on `enterprise`, 1,000 requests/s, above what this run reaches), body validation, the instance's location from a 1 s cache (at most one store read per tenant per second), then (b) over kept-alive `node:http` connections with a cached instance token; the instance's answer is passed through unparsed, and the search is metered (buffered in memory, written once a second). The reconciler health-checks the instance every " +
      `${RECONCILE_INTERVAL_MS} ms (the production default).`,
    "- **(d) Bare Node proxy → instance** (informational): a plain `node:http` server in the control plane's process that forwards (b)'s requests over a kept-alive agent and returns the answers unread: no auth, validation, routing or metering. What one more Node hop costs on this machine at the least; its CPU shows in the control-plane column.",
    "- **(e) Two bare Node hops → Chroma** (informational): (a)'s requests through two bare proxies like (d)'s, each in a process of its own, the second forwarding to the first and the first to Chroma. The shape of (c) (two Node processes in front of Chroma) with nothing done in either: the floor for (c) on this machine. Not in the CPU table (its proxies are not the processes measured there).",
    "- **(a′) Chroma get-collection** (informational): `GET {chroma}" +
      CHROMA_COLLECTIONS +
      "/default`, what the instance used to call before every query, before it cached collection handles.",
    "",
    "(a) to (e) return the same 10 ids for the same query (checked before the runs).",
    "",
    "## Notes",
    "",
  );
  const a1 = find("chroma", 1);
  const b1 = find("instance", 1);
  const c1 = find("control-plane", 1);
  if (a1 && b1 && c1) {
    lines.push(
      `- At 1 connection the instance adds ${fixed(b1.p50 - a1.p50, 2)} ms at the median and the control plane ${fixed(c1.p50 - b1.p50, 2)} ms more: each is one more loopback HTTP hop (parse, route, validate, serialize, in Node) on top of the one before.`,
    );
  }
  const a8 = find("chroma", 8);
  const c8 = find("control-plane", 8);
  const d1 = find("bare-proxy", 1);
  if (a1 && b1 && c1 && d1) {
    lines.push(
      `- The floor of one Node hop: a bare proxy in front of the instance adds ${fixed(d1.p50 - b1.p50, 2)} ms at 1 connection; the control plane adds ${fixed(c1.p50 - b1.p50, 2)} ms, so its own work (key, rate limit, validation, routing, metering) is about ${fixed(c1.p50 - d1.p50, 2)} ms of it.`,
    );
  }
  const e1 = find("two-bare-hops", 1);
  const e8 = find("two-bare-hops", 8);
  if (a1 && e1 && a8 && c8 && e8) {
    lines.push(
      `- Two do-nothing Node hops in front of Chroma (e) add ${fixed(e1.p50 - a1.p50, 2)} ms at the median at 1 connection and keep ${fixed((e8.qps / a8.qps) * 100, 0)}% of Chroma's QPS at 8; the control plane path keeps ${fixed((c8.qps / a8.qps) * 100, 0)}%.`,
    );
  }
  lines.push(
    `- At 1 connection requests go one at a time, so QPS is about 1000 / mean latency (the mean is above the p50 when the tail is long): 80% of (a)'s QPS there means adding at most a quarter of (a)'s latency${a1 && e1 ? ` (${fixed(a1.p50 / 4, 2)} ms at the median here, where two do-nothing hops add ${fixed(e1.p50 - a1.p50, 2)} ms)` : ""}.`,
    "- At 8 connections each connection sends its next request when the last is answered, so the p50 is about 8 / QPS: keeping 80% of (a)'s QPS means adding a quarter of (a)'s p50 (several ms), not 1.5 ms.",
    `- At 8 connections the client, the control plane, the instance and Chroma compete for ${os.cpus().length} cores, so QPS there is mostly the CPU each search costs across the whole stack: (c) spends it in the control plane, the instance and Chroma, (a) in Chroma alone.`,
    "- The machine may be shared (see the load average above): compare runs made on the same, quiet machine.",
    "",
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const storeKind = testStoreKind();
  const loadAverage = os.loadavg();
  log(
    `starting control plane (store: ${storeKind}); load average ${loadAverage.map((v) => v.toFixed(2)).join(" ")}`,
  );
  // Production intervals (the test harness polls 5× as often): every reconciler pass health-checks
  // the instance, and every auth poll reads the store, CPU the searches compete for.
  const proxies: BareProxy[] = [];
  const server = await startTestServer({
    env: { RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS), AUTH_POLL_INTERVAL_MS: "1000" },
  });
  try {
    const api = `${server.url}/api/v1`;
    const admin = server.adminToken;
    const tenant = await callJson<{ id: string }>(
      `${api}/tenants`,
      // enterprise: its 1,000 requests/s per key sit above what this run can reach, so the
      // rate limiter never shapes the numbers.
      { token: admin, body: { slug: "bench-search", name: "bench search", plan: "enterprise" } },
      201,
    );
    const { secret: key } = await callJson<{ secret: string }>(
      `${api}/tenants/${tenant.id}/keys`,
      { token: admin, body: { name: "bench", scopes: ["read", "write"] } },
      201,
    );
    log(`launching the instance for ${tenant.id}`);
    await callJson(`${api}/launch`, { token: admin, body: { tenantId: tenant.id } });
    const instanceUrl = await waitUntilRunning(server, tenant.id);

    log(`loading ${VECTORS} vectors (${DIMENSION}-d) in batches of ${LOAD_BATCH}`);
    const vectors = randomVectors(VECTORS, 1);
    const loadStarted = performance.now();
    for (let start = 0; start < VECTORS; start += LOAD_BATCH) {
      const ids = Array.from({ length: Math.min(LOAD_BATCH, VECTORS - start) }, (_, i) => `doc-${start + i}`);
      await callJson(`${api}/embed`, {
        token: key,
        body: {
          ids,
          embeddings: vectors.slice(start, start + ids.length),
          documents: ids.map((id, i) => `document ${id} about topic ${(start + i) % 10}`),
          metadatas: ids.map((_, i) => ({ group: (start + i) % 10, even: (start + i) % 2 === 0 })),
        },
      });
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    log(`  loaded in ${fixed(loadSeconds, 1)} s`);

    const chromaUrl = await chromaUrlOf(server, tenant.id);
    const pids = await pidsOf(server, tenant.id);
    // The control plane runs on this process's main thread (autocannon has a worker thread).
    const statFiles = {
      chroma: `/proc/${pids.chroma}/stat`,
      instance: `/proc/${pids.instance}/stat`,
      controlPlane: `/proc/${process.pid}/task/${process.pid}/stat`,
    } as const;
    const cpuNow = async () => ({
      chroma: await cpuSecondsOf(statFiles.chroma),
      instance: await cpuSecondsOf(statFiles.instance),
      controlPlane: await cpuSecondsOf(statFiles.controlPlane),
    });
    const collection = await callJson<{ id: string }>(`${chromaUrl}${CHROMA_COLLECTIONS}/default`, {});
    const count = await callJson<number>(`${chromaUrl}${CHROMA_COLLECTIONS}/${collection.id}/count`, {});
    if (count !== VECTORS) throw new Error(`the collection holds ${count} vectors, expected ${VECTORS}`);
    const token = await callJson<{ token: string; instanceUrl: string | null }>(`${api}/generate-token`, {
      token: key,
      body: { tenantId: tenant.id, scopes: ["read"], ttlSeconds: 3_600 },
    });
    if (token.instanceUrl !== instanceUrl) {
      throw new Error(`generate-token named ${token.instanceUrl}, status says ${instanceUrl}`);
    }
    log(
      `chroma ${chromaUrl} (collection ${collection.id}), instance ${instanceUrl}, control plane ${server.url}`,
    );

    const queries = randomVectors(QUERIES, 2);
    const bareProxy = await startBareProxy(instanceUrl);
    proxies.push(bareProxy);
    // (e): two bare hops, each its own process, the second forwarding to the first.
    const firstHop = await spawnBareProxy(chromaUrl);
    proxies.push(firstHop);
    const secondHop = await spawnBareProxy(firstHop.url);
    proxies.push(secondHop);
    const json = { "content-type": "application/json" };
    const queryPath = `${CHROMA_COLLECTIONS}/${collection.id}/query`;
    const chromaJob: Target["job"] = {
      origin: chromaUrl,
      headers: json,
      requests: queries.map((q) => ({
        method: "POST",
        path: queryPath,
        body: JSON.stringify({ query_embeddings: [q], n_results: N_RESULTS, include: INCLUDE }),
      })),
    };
    // The same queries in VDB's search shape, to the instance's or the control plane's route.
    const vdbSearchJob = (origin: string, path: string, bearer: string): Target["job"] => ({
      origin,
      headers: { ...json, authorization: `Bearer ${bearer}` },
      requests: queries.map((q) => ({
        method: "POST",
        path,
        body: JSON.stringify({ queryEmbedding: q, nResults: N_RESULTS, include: INCLUDE }),
      })),
    });
    const targets: Target[] = [
      { name: "chroma", label: "(a) Chroma direct", informational: false, job: chromaJob },
      {
        name: "instance",
        label: "(b) Instance",
        informational: false,
        job: vdbSearchJob(instanceUrl, "/search", token.token),
      },
      {
        name: "control-plane",
        label: "(c) Control plane",
        informational: false,
        job: vdbSearchJob(server.url, "/api/v1/search", key),
      },
      {
        name: "bare-proxy",
        label: "(d) Bare Node proxy → instance",
        informational: true,
        job: vdbSearchJob(bareProxy.url, "/search", token.token),
      },
      {
        name: "two-bare-hops",
        label: "(e) Two bare Node hops → Chroma",
        informational: true,
        job: { ...chromaJob, origin: secondHop.url },
      },
      {
        name: "chroma-get",
        label: "(a′) Chroma get-collection",
        informational: true,
        job: {
          origin: chromaUrl,
          headers: {},
          requests: [{ method: "GET", path: `${CHROMA_COLLECTIONS}/default` }],
        },
      },
    ];

    // Equivalent work: every path answers the same ids for the same query vectors.
    for (const [index, body] of targets[0]!.job.requests.slice(0, 5).entries()) {
      const answers = await Promise.all(
        targets
          .filter((t) => t.name !== "chroma-get")
          .map(async (t) => {
            const request = t.job.requests[index]!;
            const res = await fetch(`${t.job.origin}${request.path}`, {
              method: "POST",
              headers: t.job.headers,
              body: request.body ?? null,
            });
            if (res.status !== 200) throw new Error(`${t.label}: HTTP ${res.status} ${await res.text()}`);
            return { target: t, ids: idsOf(t.name, await res.json()) };
          }),
      );
      const expected = answers[0]!.ids.join(",");
      for (const answer of answers) {
        if (answer.ids.length !== N_RESULTS || answer.ids.join(",") !== expected) {
          throw new Error(
            `query ${index} (${body.path}): ${answer.target.label} answered [${answer.ids.join(", ")}], Chroma [${expected}]`,
          );
        }
      }
    }
    log("every path agrees on the results of the first 5 queries");

    log(`warming up (${WARMUP_SECONDS} s per path at 8 connections)`);
    for (const target of targets) await runLoad({ ...target.job, connections: 8, seconds: WARMUP_SECONDS });

    // Rounds interleave the paths, so drift (other load on the machine, GC, Chroma compaction)
    // lands on every path alike; each case's samples are pooled over its rounds.
    const pooled = new Map<string, LoadResult[]>();
    const cpuSpent = new Map<string, CpuPerQuery & { ok: number }>();
    const roundSeconds = Math.max(1, Math.round(SECONDS / ROUNDS));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const connections of CONNECTIONS) {
        for (const target of targets) {
          log(`round ${round}/${ROUNDS}: ${target.label}, ${connections} connection(s), ${roundSeconds} s`);
          const cpuBefore = await cpuNow();
          const result = await runLoad({ ...target.job, connections, seconds: roundSeconds });
          const cpuAfter = await cpuNow();
          const cpuKey = `${target.name}@${connections}`;
          const spent = cpuSpent.get(cpuKey) ?? { chroma: 0, instance: 0, controlPlane: 0, ok: 0 };
          for (const part of ["chroma", "instance", "controlPlane"] as const) {
            spent[part] += cpuAfter[part] - cpuBefore[part];
          }
          spent.ok += result.ok;
          cpuSpent.set(cpuKey, spent);
          log(
            `  ${fixed(result.qps, 0)} req/s, p50 ${fixed(percentile(result.latencies, 50), 2)} ms, non-2xx ${result.non2xx}, errors ${result.errors}`,
          );
          const key = `${target.name}@${connections}`;
          pooled.set(key, [...(pooled.get(key) ?? []), result]);
        }
      }
    }
    const rows: Row[] = CONNECTIONS.flatMap((connections) =>
      targets.map((target) => {
        const result = pool(pooled.get(`${target.name}@${connections}`) ?? []);
        const spent = cpuSpent.get(`${target.name}@${connections}`);
        const perQuery = (seconds: number) =>
          spent && spent.ok > 0 ? (seconds * 1000) / spent.ok : Number.NaN;
        return {
          target,
          connections,
          cpu: {
            chroma: perQuery(spent?.chroma ?? 0),
            instance: perQuery(spent?.instance ?? 0),
            controlPlane: perQuery(spent?.controlPlane ?? 0),
          },
          qps: result.qps,
          p50: percentile(result.latencies, 50),
          p90: percentile(result.latencies, 90),
          p99: percentile(result.latencies, 99),
          result,
        };
      }),
    );
    const failed = rows.filter((row) => row.result.non2xx > 0 || row.result.errors > 0);
    if (failed.length > 0) {
      throw new Error(
        `requests failed: ${failed.map((r) => `${r.target.name}@${r.connections}: ${r.result.non2xx} non-2xx ${JSON.stringify(r.result.statuses)}, ${r.result.errors} errors/timeouts`).join("; ")}`,
      );
    }

    await writeFile(
      RESULTS_FILE,
      renderResults({ date: new Date(), storeKind, loadAverage, loadSeconds, rows }),
    );
    for (const connections of CONNECTIONS) {
      const a = rows.find((r) => r.target.name === "chroma" && r.connections === connections)!;
      const c = rows.find((r) => r.target.name === "control-plane" && r.connections === connections)!;
      log(
        `${connections} conn: (c) p50 ${signed(c.p50 - a.p50, 2)} ms vs (a) (goal ≤ ${GOAL_P50_ADDED_MS}), QPS ${fixed((c.qps / a.qps) * 100, 0)}% of (a) (goal ≥ ${GOAL_QPS_RATIO * 100}%)`,
      );
    }
    log(`wrote ${RESULTS_FILE.pathname}`);
  } finally {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await server.close();
  }
}

await main();
