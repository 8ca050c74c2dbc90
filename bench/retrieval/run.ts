/**
 * bench/retrieval: retrieval quality and cost of the three search modes (vector, keyword,
 * hybrid) on judged data, through the real API end to end: a control plane and a tenant
 * instance with the default `use-lite` model are started, the DBpedia-Entity subset is upserted
 * through `POST /api/v1/embed`, and every judged query is searched through `POST /api/v1/search`
 * in each mode.
 *
 * Scored as the data's README says: nDCG@10 with linear gains, recall@10 and recall@100 over
 * judgements > 0, queries without a relevant document in the corpus dropped. Latency: p50 of
 * `nResults: 10` searches with the default include, modes interleaved, so that the machine's load
 * weighs on every mode alike; what keyword and hybrid add is their p50 against vector search's
 * (which embeds the query too), twice: warm (the same searches again) and cold (each search right
 * after a write to another collection, which drops the instance's row cache). Beside it, the
 * keyword ranking's own CPU time on the same index in this process, which does not depend on the
 * load of the machine as much. Memory: the keyword index of the same texts built in this process
 * with its rows file, as the instance builds it (V8's heap and array buffers after − before, with
 * forced GCs; as written, and compacted as a snapshot leaves it), its saved snapshot's size, and
 * the rows file's.
 *
 *   BENCH_DATA=/path/to/dbpedia-entity pnpm --filter @vdb/bench retrieval
 *   (default data: shared/data/retrieval/dbpedia-entity in a folder above the repository;
 *    BENCH_ROUNDS=… latency rounds, default 5; BENCH_DOCS=… a smaller corpus; BENCH_SHARED_WITH=…
 *    what else ran on the machine, BENCH_NOTE=… any other note about it; BENCH_EMBEDDINGS=file
 *    the documents' vectors kept between runs, so that a run re-ingests in seconds;
 *    BENCH_PHASES=1 the instance's per-phase timings of every search, in the table; a file name
 *    instead of 1 keeps them there, one JSON line per search)
 *
 * A quick latency run while iterating (a few minutes once the vectors are cached):
 *   BENCH_EMBEDDINGS=/tmp/dbpedia-use-lite.vectors BENCH_PHASES=1 pnpm --filter @vdb/bench retrieval
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer, testStoreKind } from "@vdb/control-plane/testing";
import { createEmbeddingProvider } from "@vdb/embeddings/create-provider";
import { KeywordIndex } from "@vdb/instance/keyword-index";
import { RowsFile } from "@vdb/instance/keyword-rows";
import {
  benchLog,
  coresShared,
  fixed,
  machineRows,
  percentile,
  positiveInt,
  requestJson,
  signed,
} from "../lib";

const log = benchLog("retrieval");
const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The data beside the repository (or a worktree of it): the first `shared/data/…` above this folder. */
function defaultData(): string {
  for (let dir = HERE; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "shared/data/retrieval/dbpedia-entity");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("no shared/data/retrieval/dbpedia-entity above the repository: set BENCH_DATA");
}
const DATA = process.env.BENCH_DATA ?? defaultData();
const NOTE = process.env.BENCH_NOTE ?? "";
const RESULTS_FILE = path.join(HERE, "RESULTS.md");
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 5);
const EMBEDDINGS_FILE = process.env.BENCH_EMBEDDINGS?.trim() || undefined;
/** `1`, or a file to keep the instance's phase lines in. */
const PHASES = Boolean(process.env.BENCH_PHASES?.trim());
const PHASES_KEPT =
  PHASES && process.env.BENCH_PHASES !== "1" ? path.resolve(process.env.BENCH_PHASES!) : undefined;
const BATCH = 25;
const COLLECTION = "dbpedia";
/** A second collection of the tenant, written to drop the instance's row cache (cold latency). */
const SIDE_COLLECTION = "bench-side";
const MODES = ["vector", "keyword", "hybrid"] as const;
type Mode = (typeof MODES)[number];

// ---- data ----------------------------------------------------------------------------------

const jsonLines = <T>(file: string): T[] =>
  readFileSync(path.join(DATA, file), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);

const fullCorpus = jsonLines<{ _id: string; title: string; text: string }>("corpus.jsonl");
const allQueries = jsonLines<{ _id: string; text: string }>("queries.jsonl");
const judgements = new Map<string, Map<string, number>>();
for (const line of readFileSync(path.join(DATA, "qrels/test.tsv"), "utf8").split("\n").slice(1)) {
  const [queryId, docId, score] = line.split("\t");
  if (!queryId || !docId || score === undefined) continue;
  if (!judgements.has(queryId)) judgements.set(queryId, new Map());
  judgements.get(queryId)!.set(docId, Number(score));
}
/**
 * BENCH_DOCS=n keeps every document judged relevant and fills up to n with the others in file
 * order: a smaller corpus for a busy machine (the issue's own measurements used 1,500 documents).
 */
const corpusSize = positiveInt(process.env.BENCH_DOCS, fullCorpus.length);
const judged = new Set(
  [...judgements.values()].flatMap((grades) =>
    [...grades].filter(([, score]) => score > 0).map(([id]) => id),
  ),
);
const corpus = [
  ...fullCorpus.filter((doc) => judged.has(doc._id)),
  ...fullCorpus.filter((doc) => !judged.has(doc._id)),
].slice(0, Math.max(corpusSize, fullCorpus.filter((doc) => judged.has(doc._id)).length));
const inCorpus = new Set(corpus.map((doc) => doc._id));
const relevantOf = (queryId: string) =>
  [...(judgements.get(queryId) ?? new Map<string, number>())].filter(
    ([docId, score]) => score > 0 && inCorpus.has(docId),
  );
const queries = allQueries.filter((query) => relevantOf(query._id).length > 0);
/** What is indexed and embedded: the entity's title, then its abstract. */
const textOf = (doc: { title: string; text: string }) => `${doc.title}\n${doc.text}`;

// ---- the documents' vectors, kept between runs (BENCH_EMBEDDINGS) ---------------------------

/**
 * The corpus's use-lite vectors by document id, read from `file` (base64 float32 per id) and
 * completed by embedding the missing documents in this process, in 2 worker threads with the model
 * and input window the instance uses; saved back when anything was added. Chroma keeps float32,
 * so the vectors are the ones the instance would store.
 */
async function cachedVectors(file: string): Promise<Map<string, number[]>> {
  const saved: Record<string, string> = existsSync(file) ? JSON.parse(await readFile(file, "utf8")) : {};
  const vectors = new Map<string, number[]>();
  for (const [id, base64] of Object.entries(saved)) {
    const bytes = Buffer.from(base64, "base64");
    vectors.set(id, Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)));
  }
  const missing = corpus.filter((doc) => !vectors.has(doc._id));
  if (missing.length === 0) return vectors;
  log(`embedding ${missing.length} documents for ${file} (use-lite, 2 worker threads)`);
  const provider = createEmbeddingProvider({ model: "use-lite", dimension: 512, workers: 2 });
  try {
    const started = performance.now();
    for (let start = 0; start < missing.length; start += BATCH * 4) {
      const batch = missing.slice(start, start + BATCH * 4);
      const { vectors: embedded } = await provider.embed(batch.map(textOf));
      batch.forEach((doc, i) => {
        vectors.set(doc._id, embedded[i]!);
        saved[doc._id] = Buffer.from(new Float32Array(embedded[i]!).buffer).toString("base64");
      });
      const done = start + batch.length;
      const left = Math.round(((missing.length - done) * (performance.now() - started)) / done / 1000);
      log(`  ${done} / ${missing.length}, about ${left} s left`);
    }
  } finally {
    await provider.close?.();
  }
  await writeFile(file, JSON.stringify(saved));
  return vectors;
}

// ---- scoring -------------------------------------------------------------------------------

function ndcgAt10(queryId: string, ranked: string[]): number {
  const grades = judgements.get(queryId)!;
  const dcg = ranked.slice(0, 10).reduce((sum, id, i) => sum + (grades.get(id) ?? 0) / Math.log2(i + 2), 0);
  const ideal = relevantOf(queryId)
    .map(([, score]) => score)
    .sort((a, b) => b - a)
    .slice(0, 10)
    .reduce((sum, grade, i) => sum + grade / Math.log2(i + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

function recallAt(queryId: string, ranked: string[], k: number): number {
  const relevant = relevantOf(queryId).map(([id]) => id);
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

// ---- the run -------------------------------------------------------------------------------

/** The fields of the API's answers this script reads. */
interface Answer {
  id: string;
  secret: string;
  state: string;
  mode: Mode;
  results: { id: string }[];
}

async function main() {
  log(
    `${corpus.length} documents, ${queries.length} of ${allQueries.length} queries have a relevant document`,
  );
  const vectors = EMBEDDINGS_FILE ? await cachedVectors(EMBEDDINGS_FILE) : undefined;
  const loadBefore = os.loadavg();
  // The instance (a child process) inherits this environment: it appends every search's phases.
  const phasesDir =
    PHASES && !PHASES_KEPT ? await mkdtemp(path.join(os.tmpdir(), "bench-retrieval-")) : undefined;
  const phasesFile = PHASES_KEPT ?? (phasesDir ? path.join(phasesDir, "phases.jsonl") : undefined);
  if (PHASES_KEPT) await rm(PHASES_KEPT, { force: true });
  if (phasesFile) process.env.SEARCH_PHASES_FILE = phasesFile;
  const server: TestServer = await startTestServer({
    env: { INSTANCE_MODEL: "use-lite", INSTANCE_DIMENSION: "512" },
  });
  try {
    /** A control-plane call that must succeed (any 2xx); its parsed body. */
    const api = async (method: string, route: string, token: string, body?: unknown) => {
      let answer = await requestJson<Answer>(`${server.url}/api/v1${route}`, { method, token, body });
      // A loaded machine can make an embedding batch outlast the control plane's timeout: retry.
      for (let retry = 0; answer.status === 503 && retry < 3; retry++) {
        answer = await requestJson<Answer>(`${server.url}/api/v1${route}`, { method, token, body });
      }
      if (answer.status < 200 || answer.status >= 300) {
        throw new Error(`${method} ${route}: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
      return answer.body;
    };
    const tenant = await api("POST", "/tenants", server.adminToken, {
      slug: "bench-retrieval",
      name: "retrieval",
      plan: "enterprise",
    });
    const { secret: key } = await api("POST", `/tenants/${tenant.id}/keys`, server.adminToken, {
      name: "bench",
      scopes: ["read", "write"],
    });
    await api("POST", "/launch", server.adminToken, { tenantId: tenant.id });
    while ((await api("GET", `/status/${tenant.id}`, server.adminToken)).state !== "running") {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    log(
      `ingesting through POST /api/v1/embed in batches of ${BATCH} (${vectors ? `vectors from ${EMBEDDINGS_FILE}` : "use-lite embeds in the instance"})`,
    );
    const ingestStarted = performance.now();
    for (let start = 0; start < corpus.length; start += BATCH) {
      const batch = corpus.slice(start, start + BATCH);
      await api("POST", "/embed", key, {
        collection: COLLECTION,
        ids: batch.map((doc) => doc._id),
        documents: batch.map(textOf),
        metadatas: batch.map((doc) => ({ title: doc.title })),
        ...(vectors ? { embeddings: batch.map((doc) => vectors.get(doc._id)!) } : {}),
      });
      if ((start / BATCH) % 10 === 0 || start + BATCH >= corpus.length) {
        const done = start + batch.length;
        const perSecond = done / ((performance.now() - ingestStarted) / 1000);
        const left = Math.round((corpus.length - done) / perSecond);
        log(`  ${done} / ${corpus.length} documents, ${perSecond.toFixed(1)}/s, about ${left} s left`);
      }
    }
    const ingestMs = performance.now() - ingestStarted;

    const search = (query: string, mode: Mode, nResults: number, include?: string[]) =>
      api("POST", "/search", key, {
        collection: COLLECTION,
        query,
        mode,
        nResults,
        ...(include ? { include } : {}),
      });

    log("scoring every query in every mode (nResults 100)");
    const scores = Object.fromEntries(
      MODES.map((mode) => [
        mode,
        { ndcg10: [] as number[], recall10: [] as number[], recall100: [] as number[] },
      ]),
    ) as Record<Mode, { ndcg10: number[]; recall10: number[]; recall100: number[] }>;
    for (const query of queries) {
      for (const mode of MODES) {
        const answer = await search(query.text, mode, 100, []);
        if (answer.mode !== mode) throw new Error(`asked for ${mode}, got ${answer.mode}`);
        const ranked = answer.results.map((hit) => hit.id);
        scores[mode].ndcg10.push(ndcgAt10(query._id, ranked));
        scores[mode].recall10.push(recallAt(query._id, ranked, 10));
        scores[mode].recall100.push(recallAt(query._id, ranked, 100));
      }
    }

    log(`latency: ${ROUNDS} rounds of every query in every mode (nResults 10, default include), interleaved`);
    const phasesRead = async () =>
      phasesFile && existsSync(phasesFile) ? (await readFile(phasesFile, "utf8")).split("\n") : [];
    // Lines already written are the scoring's searches (100 deep): the phases table is the latency's.
    await new Promise((resolve) => setTimeout(resolve, PHASES ? 1_000 : 0));
    const phasesBefore = (await phasesRead()).length - 1;
    const loadBeforeLatency = os.loadavg();
    // What ran just before a search matters: after a keyword search (no embedding) the embedding
    // thread has rested, and the next embedding takes longer (~1.5 ms at load 10). The modes follow
    // a de Bruijn sequence, so every mode follows every mode (itself included) equally often, and
    // each mode takes the queries in turn: every query ROUNDS times per mode.
    const order: Mode[] = [
      "vector",
      "vector",
      "keyword",
      "keyword",
      "hybrid",
      "hybrid",
      "vector",
      "hybrid",
      "keyword",
    ];
    /** Every query ROUNDS times in every mode, interleaved; each search timed, `before` each untimed. */
    const timeSearches = async (before?: () => Promise<unknown>) => {
      const took: Record<Mode, number[]> = { vector: [], keyword: [], hybrid: [] };
      const after = new Map<string, number[]>();
      const nextQuery: Record<Mode, number> = { vector: 0, keyword: 0, hybrid: 0 };
      let previous: Mode = order[order.length - 1]!;
      for (let step = 0; step < ROUNDS * queries.length * MODES.length; step++) {
        const mode = order[step % order.length]!;
        const query = queries[nextQuery[mode]++ % queries.length]!;
        await before?.();
        const started = performance.now();
        await search(query.text, mode, 10);
        const ms = performance.now() - started;
        took[mode].push(ms);
        const pair = `${mode} after ${previous}`;
        after.set(pair, [...(after.get(pair) ?? []), ms]);
        previous = mode;
      }
      return { took, after };
    };
    // Warm: the same searches as the scoring's: any row the instance had to read from Chroma (a
    // record without text, which the rows file lacks) is in its row cache.
    const { took: latency, after: latencyAfter } = await timeSearches();
    await new Promise((resolve) => setTimeout(resolve, PHASES ? 1_000 : 0));
    const phasesWarm = (await phasesRead()).length - 1;
    // Cold: before each search a write to another collection of the tenant (deleting an id no
    // record has) drops every row the row cache kept, as a query never asked before finds it,
    // with no write pending in the searched collection itself.
    log(`latency with a cold row cache: each search after a write to the collection ${SIDE_COLLECTION}`);
    await api("POST", "/embed", key, {
      collection: SIDE_COLLECTION,
      ids: ["side"],
      documents: ["a record of another collection"],
      embeddings: [Array.from({ length: 512 }, (_, i) => (i === 0 ? 1 : 0))],
    });
    const { took: coldLatency } = await timeSearches(() =>
      api("POST", "/delete", key, { collection: SIDE_COLLECTION, ids: ["bench-absent-id"] }),
    );
    const loadAfterLatency = os.loadavg();
    await new Promise((resolve) => setTimeout(resolve, PHASES ? 1_000 : 0));
    const phaseLines = (await phasesRead())
      .map((line, index) => ({ line, index }))
      .filter(({ line, index }) => index >= Math.max(0, phasesBefore) && line.trim() !== "");
    const phasesOf = (from: number, to: number) =>
      phaseLines
        .filter(({ index }) => index >= from && index < to)
        .map(({ line }) => JSON.parse(line) as Record<string, number> & { mode: Mode });
    const phases = phasesOf(Math.max(0, phasesBefore), phasesWarm);
    const coldPhases = phasesOf(phasesWarm, Number.POSITIVE_INFINITY);
    const provider = createEmbeddingProvider({ model: "use-lite", dimension: 512 });
    await provider.embed([queries[0]!.text]);
    const embedding: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const query of queries) {
        const started = performance.now();
        await provider.embed([query.text]);
        embedding.push(performance.now() - started);
      }
    }

    log("memory: the keyword index of the same texts and its rows file, built in this process");
    // Measured before the index exists, which also flattens each text (a string of parts until then).
    const texts = corpus.map(textOf);
    const textBytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text, "utf8"), 0);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error("run with node --expose-gc (the package script does)");
    // V8's heap and the typed arrays' buffers (outside it), after every collectable thing is gone.
    const memoryNow = () => {
      gc();
      gc();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    const rowsDir = await mkdtemp(path.join(os.tmpdir(), "vdb-bench-rows-"));
    const { rows: rowsFile, commit } = await RowsFile.create(path.join(rowsDir, "collection.rows"));
    await commit();
    const rowsOfCorpus = corpus.map((doc, i) => ({ id: doc._id, document: texts[i]!, metadata: null }));
    const memoryBefore = memoryNow();
    const index = KeywordIndex.empty();
    for (let start = 0; start < corpus.length; start += BATCH) {
      const batch = rowsOfCorpus.slice(start, start + BATCH);
      const locations = await rowsFile.append(batch);
      index.upsert(batch.map((row, i) => ({ id: row.id, text: row.document, row: locations[i] })));
    }
    const indexBytes = memoryNow() - memoryBefore;
    const snapshotBytes = Buffer.byteLength(index.toJSON(), "utf8"); // compacts it, as every save does
    // Right after a save, V8 still counts the snapshot's garbage as used (about 2× the index here,
    // gone within a second or two): what the index keeps is measured once it settled.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const compactedIndexBytes = memoryNow() - memoryBefore;
    const rowsBytes = rowsFile.bytes;
    rowsFile.retire();
    await rm(rowsDir, { recursive: true, force: true });

    // What the instance's keyword ranking costs per search: hybrid ranks 100 deep, keyword mode 10.
    const keywordQuery: Record<10 | 100, number[]> = { 10: [], 100: [] };
    for (let round = 0; round < ROUNDS * 5; round++) {
      for (const query of queries) {
        for (const depth of [10, 100] as const) {
          const started = performance.now();
          index.query(query.text, depth);
          keywordQuery[depth].push(performance.now() - started);
        }
      }
    }
    const loadAfter = os.loadavg();

    await writeResults({
      scores,
      latency,
      coldLatency,
      embedding,
      ingestMs,
      textBytes,
      indexBytes,
      compactedIndexBytes,
      snapshotBytes,
      rowsBytes,
      indexed: index.size,
      keywordQuery,
      phases,
      coldPhases,
      latencyAfter,
      loadBefore,
      loadBeforeLatency,
      loadAfterLatency,
      loadAfter,
    });
  } finally {
    await server.close();
    if (phasesDir) await rm(phasesDir, { recursive: true, force: true });
  }
}

async function writeResults(run: {
  scores: Record<Mode, { ndcg10: number[]; recall10: number[]; recall100: number[] }>;
  latency: Record<Mode, number[]>;
  /** The same searches, each right after a write that dropped the row cache. */
  coldLatency: Record<Mode, number[]>;
  embedding: number[];
  ingestMs: number;
  textBytes: number;
  indexBytes: number;
  compactedIndexBytes: number;
  snapshotBytes: number;
  rowsBytes: number;
  indexed: number;
  keywordQuery: Record<10 | 100, number[]>;
  /** The instance's phase timings of each latency search (BENCH_PHASES), else none. */
  phases: (Record<string, number> & { mode: Mode })[];
  coldPhases: (Record<string, number> & { mode: Mode })[];
  /** Latencies by the mode searched just before: "hybrid after keyword" … */
  latencyAfter: Map<string, number[]>;
  loadBefore: number[];
  loadBeforeLatency: number[];
  loadAfterLatency: number[];
  loadAfter: number[];
}) {
  const p50 = (values: number[]) => percentile(sorted(values), 50);
  const p95 = (values: number[]) => percentile(sorted(values), 95);
  const metric = (mode: Mode, name: "ndcg10" | "recall10" | "recall100") => mean(run.scores[mode][name]);
  const vectorP50 = p50(run.latency.vector);
  const embedP50 = p50(run.embedding);
  const hybridGain = metric("hybrid", "ndcg10") - metric("vector", "ndcg10");
  // Vector search is the embedding plus Chroma's nearest-neighbour query: what a mode adds beyond
  // the embedding is its p50 against vector search's (keyword search, which embeds nothing, is
  // expected to be below it).
  const hybridAdds = p50(run.latency.hybrid) - vectorP50;
  const keywordAdds = p50(run.latency.keyword) - vectorP50;
  const coldHybridAdds = p50(run.coldLatency.hybrid) - p50(run.coldLatency.vector);
  const coldKeywordAdds = p50(run.coldLatency.keyword) - p50(run.coldLatency.vector);
  const memoryRatio = Math.max(run.indexBytes, run.compactedIndexBytes) / run.textBytes;
  const snapshotRatio = run.snapshotBytes / run.textBytes;
  const verdict = (ok: boolean) => (ok ? "met" : "**not met**");
  const rows = MODES.map(
    (mode) =>
      `| ${mode} | ${fixed(metric(mode, "ndcg10"), 3)} | ${fixed(metric(mode, "recall10"), 3)} | ${fixed(metric(mode, "recall100"), 3)} | ${fixed(p50(run.latency[mode]), 1)} | ${fixed(p95(run.latency[mode]), 1)} |`,
  );
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(" / ");
  const phaseNames = [
    "collection",
    "embed",
    "keyword",
    "chroma",
    "fuse",
    "rows",
    "build",
    "serialise",
    "total",
  ];
  const phaseRowsOf = (lines: typeof run.phases, label: string) =>
    MODES.map((mode) => {
      const mine = lines.filter((line) => line.mode === mode);
      const cell = (name: string) => {
        const values = mine.map((line) => line[name]).filter((value): value is number => value !== undefined);
        return values.length === 0 ? "" : fixed(p50(values), 2);
      };
      const share = (name: string) =>
        mine.length === 0 ? "" : fixed(mine.filter((line) => (line[name] ?? 0) > 0).length / mine.length, 2);
      return `| ${mode}${label} | ${mine.length} | ${phaseNames.map(cell).join(" | ")} | ${share("keywordOnly")} | ${share("rowsRead")} |`;
    });
  const phaseRows = [...phaseRowsOf(run.phases, ""), ...phaseRowsOf(run.coldPhases, ", cold")];
  const phasesSection =
    run.phases.length === 0
      ? ""
      : `
## Where a search's time goes, in the instance (BENCH_PHASES)

p50 of each phase in ms over the latency searches, timed inside the instance: \`collection\` the
collection's handle, \`embed\` the query (in a worker thread), \`keyword\` the BM25 ranking (beside
the embedding in hybrid), \`chroma\` the vector query, \`fuse\` reciprocal rank fusion, \`rows\` reading
the answer's fields after fusion (from the keyword index's rows file; the row cache or Chroma for
a record the file lacks),
\`build\` the hits, \`serialise\` the JSON answer, \`total\` the instance's whole handler (without
auth and HTTP); \`cold\` rows are the searches made with a cold row cache (see above). Then the
share of hybrid searches whose answer had a hit only the keyword ranking found (its embedding is read for its distance) and the share
that needed any row the rows file lacked (from the row cache, or Chroma).

| Mode | searches | ${phaseNames.join(" | ")} | keyword-only hit | rows not in the rows file |
| --- | ---: | ${phaseNames.map(() => "---:").join(" | ")} | ---: | ---: |
${phaseRows.join("\n")}
`;
  const markdown = `# bench/retrieval — results

Generated by \`pnpm --filter @vdb/bench retrieval\` (\`bench/retrieval/run.ts\`); overwritten on every run.

| | |
| --- | --- |
${machineRows()}
| Cores | ${coresShared(os.cpus().length)}${NOTE ? `; ${NOTE}` : ""} |
| Load average (1 / 5 / 15 min) | at the start ${load(run.loadBefore)}; latency phase: before ${load(run.loadBeforeLatency)}, after ${load(run.loadAfterLatency)}; at the end ${load(run.loadAfter)} |
| Store | ${testStoreKind()} |
| Data | DBpedia-Entity v2 subset (BEIR format, \`shared/data/retrieval/dbpedia-entity\`): ${corpus.length} of its ${fullCorpus.length} documents (BENCH_DOCS: every document judged relevant, then the others in file order), ${queries.length} judged queries with a relevant document in them |
| Path | control plane \`POST /api/v1/embed\` (batches of ${BATCH}, title + abstract, ${EMBEDDINGS_FILE ? "with their use-lite vectors, embedded beforehand in the bench process (BENCH_EMBEDDINGS)" : "embedded by the instance with use-lite"}, ${fixed(run.ingestMs / 1000, 0)} s) → \`POST /api/v1/search\` per query and mode |
| Keyword | BM25 k1 1.2, b 0.75, Porter stemming, Lucene's English stop words (the instance's own index: sorted term dictionary, postings in typed arrays) |
| Hybrid | reciprocal rank fusion (k = 60) of the vector and keyword rankings, each 100 deep |

## Quality and latency (one run)

nDCG@10 with linear gains; recall over judgements > 0. Latency: \`nResults: 10\`, default include,
${run.latency.vector.length} searches per mode, modes interleaved so that each follows each equally often, as the API client sees it.

| Mode | nDCG@10 | recall@10 | recall@100 | p50 ms | p95 ms |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}

With a cold row cache: the same searches again, each right after a write to another collection
of the tenant (\`POST /api/v1/delete\` of an id no record has, untimed), which drops every row the
instance's row cache had kept (see \`apps/instance/src/documents/row-cache.ts\`), as a query never
asked before finds it. Keyword and hybrid read their answers' rows from the keyword index's rows
file (\`apps/instance/src/keyword/keyword-rows.ts\`) either way; the row cache holds only rows the
file lacks (records without text). The warm table above repeats the scoring's searches.

| Mode | p50 ms, cold | p95 ms, cold | p50 ms, warm |
| --- | ---: | ---: | ---: |
${MODES.map((mode) => `| ${mode} | ${fixed(p50(run.coldLatency[mode]), 1)} | ${fixed(p95(run.coldLatency[mode]), 1)} | ${fixed(p50(run.latency[mode]), 1)} |`).join("\n")}

p50 ms by the mode searched just before (warm; each mode follows each equally often):

| Mode | after vector | after keyword | after hybrid |
| --- | ---: | ---: | ---: |
${MODES.map((mode) => `| ${mode} | ${MODES.map((before) => fixed(p50(run.latencyAfter.get(`${mode} after ${before}`) ?? []), 1)).join(" | ")} |`).join("\n")}

Load average during the latency phase: ${load(run.loadBeforeLatency)} before, ${load(run.loadAfterLatency)} after
(${os.cpus().length} cores): on a machine this loaded, every extra step (a round trip to Chroma, a
thread switch) waits its turn, so compare the modes with each other, within this run.

Embedding one query with use-lite in this process: p50 ${fixed(embedP50, 1)} ms (the vector and
hybrid searches each embed once, in the instance). The keyword ranking itself (BM25 over the
${run.indexed} documents' index, in this process, ${run.keywordQuery[10].length} queries each): p50
${fixed(p50(run.keywordQuery[10]), 2)} ms 10 deep (keyword mode), ${fixed(p50(run.keywordQuery[100]), 2)} ms 100 deep (hybrid), p95
${fixed(p95(run.keywordQuery[100]), 2)} ms. In hybrid it runs while the query is embedded in a worker thread.
${phasesSection}
## Goals (issue 14)

| Goal | Measured | |
| --- | --- | --- |
| hybrid nDCG@10 ≥ vector + 0.08 | ${signed(hybridGain, 3)} (${fixed(metric("hybrid", "ndcg10"), 3)} vs ${fixed(metric("vector", "ndcg10"), 3)}) | ${verdict(hybridGain >= 0.08)} |
| hybrid recall@100 ≥ keyword's | ${fixed(metric("hybrid", "recall100"), 3)} vs ${fixed(metric("keyword", "recall100"), 3)} | ${verdict(metric("hybrid", "recall100") >= metric("keyword", "recall100"))} |
| hybrid adds ≤ 2 ms to a search's p50 beyond the embedding | hybrid p50 − vector p50 = ${signed(hybridAdds, 2)} ms warm, ${signed(coldHybridAdds, 2)} ms cold (keyword ranking 100 deep: ${fixed(p50(run.keywordQuery[100]), 2)} ms CPU) | warm ${verdict(hybridAdds <= 2)}, cold ${verdict(coldHybridAdds <= 2)} |
| keyword adds ≤ 2 ms beyond the embedding | keyword p50 − vector p50 = ${signed(keywordAdds, 2)} ms warm, ${signed(coldKeywordAdds, 2)} ms cold (keyword ranking 10 deep: ${fixed(p50(run.keywordQuery[10]), 2)} ms CPU) | warm ${verdict(keywordAdds <= 2)}, cold ${verdict(coldKeywordAdds <= 2)} |
| index memory ≤ 2× the indexed text (V8 heap and array buffers) | ${fixed(run.indexBytes / 1e6, 2)} MB as written, ${fixed(run.compactedIndexBytes / 1e6, 2)} MB compacted (as a snapshot leaves it), for ${run.indexed} documents of ${fixed(run.textBytes / 1e6, 2)} MB UTF-8 text: at most ${fixed(memoryRatio, 2)}× | ${verdict(memoryRatio <= 2)} |
| (on disk, beside it) | saved snapshot ${fixed(run.snapshotBytes / 1e6, 2)} MB = ${fixed(snapshotRatio, 2)}× the text; rows file (documents and metadatas, which searches read their answers from) ${fixed(run.rowsBytes / 1e6, 2)} MB = ${fixed(run.rowsBytes / run.textBytes, 2)}× | not a goal |

Timings on a machine this loaded are noisy: compare the modes within this run, not with other
runs. The corpus is mostly judged documents, which favours lexical search (see the data's
README): compare modes with each other, not with published full-corpus numbers.
`;
  await writeFile(RESULTS_FILE, markdown);
  log(`wrote ${RESULTS_FILE}`);
  console.log(markdown);
}

await main();
process.exit(0);
