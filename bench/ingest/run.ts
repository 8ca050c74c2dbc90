/**
 * bench/ingest: end-to-end ingestion throughput with use-lite (POST /docs → document ready, through
 * the control plane, the durable job, parsing, chunking, the instance's /embed and Chroma), with the
 * instance embedding in one worker thread (EMBED_WORKERS=1, the single-thread baseline) and in one
 * per core (the default), in interleaved rounds of the same run on the same corpus.
 *
 * Issue 11's goal: with every core, at least 1.8× the single-thread throughput. Beside it, in the same
 * run, what this machine allows: the embedding pool alone with 1 thread and with one per core, and
 * a plain counting loop on 1 thread and on every core at once (two vCPUs may share one physical
 * core, and then two busy threads each run slower than one alone). Issue 4's goal stays
 * beside it: the single-thread pipeline adds at most 30% over the model alone embedding the same
 * chunks in this process, in the same batches of 64.
 *
 *   pnpm --filter @vdb/bench ingest        (BENCH_CHUNKS=… corpus size, BENCH_ROUNDS=… rounds)
 */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { Worker } from "node:worker_threads";
import { startTestServer, type TestServer, testStoreKind } from "@vdb/control-plane/testing";
import { trpcLiveAs } from "@vdb/control-plane/testing/http";
import { createEmbeddingProvider } from "@vdb/embeddings/create-provider";
import { createWorkerPoolProvider } from "@vdb/embeddings/worker-pool";
import { coresShared, machineRows, positiveInt, requestJson } from "../lib";

const RESULTS_FILE = new URL("./RESULTS.md", import.meta.url);
const TARGET_CHUNKS = positiveInt(process.env.BENCH_CHUNKS, 1_000);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 3);
const EMBED_BATCH = 64; // the worker's batch size (apps/control-plane/src/documents/ingest-job.ts)
const MODEL = "use-lite";
const DIMENSION = 512;
const ALL_CORES = os.availableParallelism();
const GOAL_SPEEDUP = 1.8;
const GOAL_OVERHEAD = 0.3;

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Paragraphs of ~40 tokens; chunkSize 50 without overlap makes one chunk of each. */
function corpus(paragraphs: number): string {
  const topics = ["billing", "security", "onboarding", "travel", "hardware", "payroll", "privacy"];
  return Array.from(
    { length: paragraphs },
    (_, i) =>
      `Section ${i} of the handbook explains ${topics[i % topics.length]}: who to ask, which form to file, how long approval takes (about ${1 + (i % 9)} days) and what to do when the request is refused.`,
  ).join("\n\n");
}

/** The fields of the API's answers this script reads. */
interface Answer {
  id: string;
  secret: string;
  state: string;
  status: string;
  failureReason: string | null;
  progress: { done: number; total: number } | null;
  chunks: { text: string }[];
}

/** A control-plane API call that must succeed (any 2xx); its parsed body. */
async function call(
  server: TestServer,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Answer> {
  const answer = await requestJson<Answer>(`${server.url}/api/v1${path}`, { method, token, body });
  if (answer.status < 200 || answer.status >= 300) {
    throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

interface Ingestion {
  chunks: number;
  pipelineMs: number;
  /** 1-minute load average when the ingestion started. */
  load: number;
  texts: string[];
}

/** One control plane and one instance embedding in `workers` threads; one document ingested. */
async function ingest(workers: number): Promise<Ingestion> {
  log(`\n== EMBED_WORKERS=${workers}: starting a control plane and an instance`);
  // The local runtime starts instances with this process's environment (plus their own settings):
  // the instance reads EMBED_WORKERS from it.
  process.env.EMBED_WORKERS = String(workers);
  const server = await startTestServer({
    env: { INSTANCE_MODEL: MODEL, INSTANCE_DIMENSION: String(DIMENSION) },
  });
  try {
    const admin = server.adminToken;
    const tenant = await call(server, "POST", "/tenants", admin, {
      slug: `bench-${workers}-workers`,
      name: `${workers} workers`,
      plan: "enterprise",
    });
    const key = (
      await call(server, "POST", `/tenants/${tenant.id}/keys`, admin, { name: "bench", scopes: ["write"] })
    ).secret;
    await call(server, "POST", "/launch", admin, { tenantId: tenant.id });
    while ((await call(server, "GET", `/status/${tenant.id}`, admin)).state !== "running") await sleep(50);

    // Warm-up: the instance loads its model on the first embed; the pipeline should not pay that.
    const warm = await call(server, "POST", "/docs", key, {
      title: "warm-up",
      // 32 chunks: four tasks of 8, so every embedding thread starts and loads its model here.
      text: corpus(32),
      chunkSize: 50,
      chunkOverlap: 0,
    });
    while ((await call(server, "GET", `/docs/${warm.id}`, key)).status !== "ready") await sleep(50);

    log(`   ingesting ${TARGET_CHUNKS} chunks through the pipeline`);
    const live = trpcLiveAs(server.url, key);
    const load = os.loadavg()[0]!;
    const started = performance.now();
    const doc = await call(server, "POST", "/docs", key, {
      title: "Handbook",
      text: corpus(TARGET_CHUNKS),
      chunkSize: 50,
      chunkOverlap: 0,
    });
    // Followed live, as the console and the CLI follow an ingestion (`documents.onProgress`: the
    // server pushes each change). Polling the listing every 25 ms, as this script did before, cost
    // the control plane ~2.5 s of CPU per ingestion, taken from the embedding threads when every
    // core embeds: the observer slowed what it measured.
    await new Promise<void>((resolve, reject) => {
      const subscription = live.documents.onProgress.subscribe(
        { tenantId: tenant.id, documentId: doc.id },
        {
          onData: (document) => {
            if (document.status !== "ready" && document.status !== "failed") return;
            subscription.unsubscribe();
            resolve();
          },
          onError: (error) => {
            subscription.unsubscribe();
            reject(error);
          },
        },
      );
    });
    const pipelineMs = performance.now() - started;
    const current = await call(server, "GET", `/docs/${doc.id}`, key);
    if (current.status !== "ready") throw new Error(`ingestion failed: ${current.failureReason}`);
    const texts = current.chunks.map((chunk) => chunk.text);
    log(`   ${texts.length} chunks in ${Math.round(pipelineMs)} ms (load ${load.toFixed(2)})`);
    return { chunks: texts.length, pipelineMs, load, texts };
  } finally {
    await server.close();
  }
}

/** The model alone on this thread, the same chunks in the same batches, after the same warm-up. */
async function embedOnly(texts: string[]): Promise<{ embedMs: number; load: number }> {
  log(`   embedding the same ${texts.length} chunks with the model alone, on this thread`);
  const provider = createEmbeddingProvider({ model: MODEL, dimension: DIMENSION });
  await provider.embed(texts.slice(0, 8));
  const load = os.loadavg()[0]!;
  const started = performance.now();
  for (let i = 0; i < texts.length; i += EMBED_BATCH) await provider.embed(texts.slice(i, i + EMBED_BATCH));
  return { embedMs: performance.now() - started, load };
}

/** The embedding pool alone, no server: the same chunks, batches of 64, with `workers` threads. */
async function poolOnly(texts: string[], workers: number): Promise<number> {
  const provider = createWorkerPoolProvider({ provider: { model: MODEL, dimension: DIMENSION }, workers });
  try {
    // Every thread loads its model before the clock starts (8 texts a task).
    await provider.embed(texts.slice(0, 8 * workers));
    const started = performance.now();
    for (let i = 0; i < texts.length; i += EMBED_BATCH) await provider.embed(texts.slice(i, i + EMBED_BATCH));
    return performance.now() - started;
  } finally {
    await provider.close();
  }
}

const COUNTING_LOOP = `
const { parentPort } = require("node:worker_threads");
let sum = 0;
const started = performance.now();
for (let i = 0; i < 400_000_000; i++) sum += i % 7;
parentPort.postMessage({ ms: performance.now() - started, sum });
`;

/** The same counting loop on `threads` threads at once; the slowest thread's time. */
async function countingLoop(threads: number): Promise<number> {
  const times = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(COUNTING_LOOP, { eval: true });
          worker.once("message", ({ ms }: { ms: number }) => resolve(ms));
          worker.once("error", reject);
        }),
    ),
  );
  return Math.max(...times);
}

interface Ceiling {
  /** Embedding-pool time with 1 thread over its time with one per core, same chunks. */
  pool: number;
  /** Throughput of the counting loop on every core over one core's: ALL_CORES × t1 / tN. */
  cores: number;
  poolMs: { single: number; all: number };
  loopMs: { single: number; all: number };
  load: number;
}

async function ceiling(texts: string[]): Promise<Ceiling> {
  log(
    `   the machine's ceiling: the embedding pool alone, and a counting loop, on 1 and ${ALL_CORES} threads`,
  );
  const load = os.loadavg()[0]!;
  const poolSingle = await poolOnly(texts, 1);
  const poolAll = await poolOnly(texts, ALL_CORES);
  const loopSingle = await countingLoop(1);
  const loopAll = await countingLoop(ALL_CORES);
  return {
    pool: poolSingle / poolAll,
    cores: (ALL_CORES * loopSingle) / loopAll,
    poolMs: { single: poolSingle, all: poolAll },
    loopMs: { single: loopSingle, all: loopAll },
    load,
  };
}

interface Round {
  order: string;
  single: Ingestion;
  all: Ingestion;
  embedOnly: { embedMs: number; load: number };
  ceiling: Ceiling;
}

const uptimeBefore = os.loadavg();
const rounds: Round[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so a trend in the machine's load favours neither.
  const singleFirst = round % 2 === 0;
  const first = await ingest(singleFirst ? 1 : ALL_CORES);
  const second = await ingest(singleFirst ? ALL_CORES : 1);
  const single = singleFirst ? first : second;
  const all = singleFirst ? second : first;
  rounds.push({
    order: singleFirst ? `1 then ${ALL_CORES}` : `${ALL_CORES} then 1`,
    single,
    all,
    embedOnly: await embedOnly(single.texts),
    ceiling: await ceiling(single.texts),
  });
}
const uptimeAfter = os.loadavg();

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const perSecond = (ingestion: Ingestion) => (ingestion.chunks / ingestion.pipelineMs) * 1000;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const speedups = rounds.map((round) => round.single.pipelineMs / round.all.pipelineMs);
const overheads = rounds.map((round) => round.single.pipelineMs / round.embedOnly.embedMs - 1);
const medianSpeedup = median(speedups);
const medianPool = median(rounds.map((round) => round.ceiling.pool));
const medianCores = median(rounds.map((round) => round.ceiling.cores));
const medianOverhead = median(overheads);
const loads = (values: number[]) => values.map((value) => value.toFixed(2)).join(" / ");
const table = rounds.map(
  (round, index) =>
    `| ${index + 1} | ${round.order} | ${fmt(round.single.pipelineMs)} | ${fmt(perSecond(round.single), 1)} | ${round.single.load.toFixed(2)} | ${fmt(round.all.pipelineMs)} | ${fmt(perSecond(round.all), 1)} | ${round.all.load.toFixed(2)} | **${speedups[index]!.toFixed(2)}×** | ${fmt(round.embedOnly.embedMs)} | ${fmt(overheads[index]! * 100)}% |`,
);
const ceilingTable = rounds.map(
  ({ ceiling: c }, index) =>
    `| ${index + 1} | ${fmt(c.poolMs.single)} | ${fmt(c.poolMs.all)} | **${c.pool.toFixed(2)}×** | ${fmt(c.loopMs.single)} | ${fmt(c.loopMs.all)} | **${c.cores.toFixed(2)}×** | ${c.load.toFixed(2)} |`,
);
const markdown = `# bench/ingest — results

Generated by \`pnpm --filter @vdb/bench ingest\` (\`bench/ingest/run.ts\`); overwritten on every run.

| | |
| --- | --- |
${machineRows()}
| Cores | ${coresShared(os.cpus().length)}; the control plane, its ingestion worker, the instance and its embedding threads, Chroma and this script all run on them |
| Load average (1, 5, 15 min) | before the run ${loads(uptimeBefore)}; after ${loads(uptimeAfter)} |
| Store | ${testStoreKind()} |
| Model | ${MODEL} (${DIMENSION}-d) |
| Corpus | one text document of ${TARGET_CHUNKS} paragraphs (~40 tokens each), chunkSize 50, overlap 0: one chunk per paragraph |
| Pipeline | \`POST /api/v1/docs\` → the job → parse → chunk → chunk rows → \`/embed\` in batches of ${EMBED_BATCH}, two in flight (\`INGEST_EMBED_CONCURRENCY\`, default 2) → Chroma → \`ready\`, as the client sees it (followed live through the \`documents.onProgress\` subscription, as the console and the CLI follow it) |
| Compared | the instance with \`EMBED_WORKERS=1\` (one embedding thread: the single-thread baseline) and with the default, one per core (\`EMBED_WORKERS=${ALL_CORES}\`); ${ROUNDS} rounds, the order alternating; a fresh control plane and instance for each ingestion |
| Embedding only | the same chunk texts, same batches of ${EMBED_BATCH}, one after another, on this script's thread; after the same warm-up |

## Goals

- Issue 11: with embedding on every core, ingestion throughput at least ${GOAL_SPEEDUP}× the single-thread
  baseline's. Median of the rounds: **${medianSpeedup.toFixed(2)}×**, goal **${medianSpeedup >= GOAL_SPEEDUP ? "met" : "NOT met"}**.
- What this machine allows, same run (medians): the embedding pool alone, no server, ${ALL_CORES} threads
  against 1: **${medianPool.toFixed(2)}×**; a counting loop on all ${ALL_CORES} cores at once against one:
  **${medianCores.toFixed(2)}×** the throughput. The pipeline's ${medianSpeedup.toFixed(2)}× is
  ${fmt((medianSpeedup / medianPool) * 100)}% of the pool's own speedup here.
- Issue 4: the pipeline (single thread) adds at most ${fmt(GOAL_OVERHEAD * 100)}% over the embedding time. Median:
  **${fmt(medianOverhead * 100)}%**, goal **${medianOverhead <= GOAL_OVERHEAD ? "met" : "NOT met"}**.

## Reading these numbers

More embedding threads help only when there are idle cores for them. This machine has 2 cores,
shared by the control plane, its ingestion worker, Chroma, this script and the instance's threads,
and, while this benchmark runs, by other sessions' builds and tests: a load average far above 2 (see
the table) means every step of the pipeline (control plane → instance → embedding thread → Chroma →
store) waits its turn in a long run queue, and the ratio then measures that contention more than the
pool. Judge the ${GOAL_SPEEDUP}× goal on a run whose load averages stay near or below the core count,
and against the ceiling table below: the pipeline cannot go faster than the embedding pool alone,
and that cannot beat what the cores give two busy threads at once.

## Results

Load is the 1-minute load average when that ingestion started.

| Round | Order | 1 thread ms | 1 thread chunks/s | load | ${ALL_CORES} threads ms | ${ALL_CORES} threads chunks/s | load | Speedup | Embedding-only ms | Overhead (1 thread) |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${table.join("\n")}

The machine's ceiling, measured after each round's ingestions: the embedding pool alone (the
instance's \`createWorkerPoolProvider\`, no server, the same chunks in batches of ${EMBED_BATCH}, each
thread's model loaded first) with 1 thread and with ${ALL_CORES}; then the same counting loop
(4×10⁸ additions) on 1 thread, and on ${ALL_CORES} threads at once (the slowest one's time).

| Round | pool, 1 thread ms | pool, ${ALL_CORES} threads ms | pool speedup | loop, 1 thread ms | loop, ${ALL_CORES} at once ms | cores' throughput | load |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${ceilingTable.join("\n")}
`;
await writeFile(RESULTS_FILE, markdown);
log(`\nwrote ${RESULTS_FILE.pathname}`);
log(markdown);
process.exit(0);
