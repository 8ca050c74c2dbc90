/**
 * bench/isolation: can one tenant's files stall another tenant (issue 11)? A real control plane
 * runs as its own process; tenant B searches at 1 connection and `/health` is polled every
 * 100 ms, first on a quiet platform, then while tenant A ingests a mix of hostile and merely large
 * files this script generates. One table: B's p50/p99 quiet vs. under attack, the worst `/health`,
 * B's non-2xx count, and the control plane's peak RSS (its parse sandbox processes beside it).
 *
 *   pnpm --filter @vdb/bench isolation      (BENCH_QUIET_SECONDS, BENCH_MODEL: see README)
 */

import { mkdtempSync, rmSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createDeflateRaw } from "node:zlib";
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createTestDatabase,
  dropTestDatabase,
  testStoreKind,
} from "@vdb/control-plane/testing";
import { makePdf, makeZip } from "@vdb/control-plane/testing/fixtures";
import { freePort, startControlPlaneProcess } from "@vdb/control-plane/testing/process";
import {
  benchLog,
  coresShared,
  cpuSecondsOf,
  fixed,
  type JsonInit,
  machineRows,
  percentile,
  positiveInt,
  requestJson,
} from "../lib";

const RESULTS_FILE = new URL("./RESULTS.md", import.meta.url);
const QUIET_SECONDS = positiveInt(process.env.BENCH_QUIET_SECONDS, 20);
/** The attack phase ends when every file of A has settled, or after this long. */
const ATTACK_MAX_SECONDS = positiveInt(process.env.BENCH_ATTACK_MAX_SECONDS, 600);
const MODEL = process.env.BENCH_MODEL ?? "hash";
const HEALTH_EVERY_MS = 100;
const MB = 1024 * 1024;
const log = benchLog("isolation");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const encode = (text: string) => new TextEncoder().encode(text);

type Tenant = { id: string; key: string };

/** A DOCX whose package points its main document at `word/document.bin`, a real bomb: `size` bytes of XML deflated. */
async function relinkedDocxBomb(size: number): Promise<Uint8Array> {
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on("data", (part: Buffer) => parts.push(part));
  const done = new Promise((resolve) => deflate.on("end", resolve));
  const head =
    '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>';
  const tail = "</w:t></w:r></w:p></w:body></w:document>";
  deflate.write(head);
  const block = Buffer.alloc(MB, "a");
  for (let written = head.length + tail.length; written < size; written += block.length) {
    if (!deflate.write(block)) await new Promise((resolve) => deflate.once("drain", resolve));
  }
  deflate.end(tail);
  await done;
  const compressed = new Uint8Array(Buffer.concat(parts));
  const rels = (body: string) =>
    `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${body}</Relationships>`;
  return makeZip([
    {
      name: "[Content_Types].xml",
      content:
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>',
    },
    {
      name: "_rels/.rels",
      content: rels(
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.bin"/>',
      ),
    },
    { name: "word/document.xml", content: "<w:document/>" },
    { name: "word/document.bin", content: compressed, isDeflated: true, declaredSize: size },
  ]);
}

/** Prose that chunks normally: `paragraphs` paragraphs of ~40 tokens. */
function prose(paragraphs: number): string {
  const topics = ["billing", "security", "onboarding", "travel", "hardware", "payroll", "privacy"];
  return Array.from(
    { length: paragraphs },
    (_, i) =>
      `Section ${i} of the handbook explains ${topics[i % topics.length]}: who to ask, which form to file, how long approval takes (about ${1 + (i % 9)} days) and what to do when the request is refused.`,
  ).join("\n\n");
}

/** A document's state as a poll showed it: `processing, 4,000 of 7,813 chunks` (its job's progress). */
function describeSeen(
  seen: { status: string; progress: { done: number; total: number } | null } | undefined,
): string {
  if (!seen) return "not listed yet";
  const { progress } = seen;
  return progress
    ? `${seen.status}, ${progress.done.toLocaleString("en-US")} of ${progress.total.toLocaleString("en-US")} chunks`
    : seen.status;
}

async function attackFiles(): Promise<[string, Uint8Array][]> {
  log("generating tenant A's files");
  const pdfPages = Array.from({ length: 1_999 }, (_, page) => [`Page ${page + 1}: ${prose(1)}`]);
  return [
    ["unclosed-b.html", encode(`<html><body>${"<b>x".repeat(100_000)}`)],
    ["nested-divs.html", encode(`<html><body>${"<div>".repeat(100_000)}deep${"</div>".repeat(100_000)}`)],
    ["one-token.txt", encode("a".repeat(4_500_000))],
    ["dom-hog.html", encode(`<html><body>${"<i>x</i>".repeat(2_000_000)}`)],
    ["relinked-bomb.docx", await relinkedDocxBomb(1_100 * MB)],
    ["long.pdf", await makePdf(pdfPages)],
    ["handbook.md", encode(prose(20_000))],
  ];
}

/** A control-plane API call that must answer 2xx; its parsed body. */
async function call<T>(url: string, init: JsonInit): Promise<T> {
  const answer = await requestJson<T>(url, init);
  if (answer.status < 200 || answer.status >= 300) {
    throw new Error(`${url}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

async function createTenant(url: string, admin: string, slug: string, plan: string): Promise<Tenant> {
  const { id } = await call<{ id: string }>(`${url}/api/v1/tenants`, {
    token: admin,
    body: { slug, name: slug, plan },
  });
  const { secret } = await call<{ secret: string }>(`${url}/api/v1/tenants/${id}/keys`, {
    token: admin,
    body: { name: "bench", scopes: ["read", "write"] },
  });
  await call(`${url}/api/v1/launch`, { token: admin, body: { tenantId: id } });
  while (
    (await call<{ state: string }>(`${url}/api/v1/status/${id}`, { token: admin })).state !== "running"
  ) {
    await sleep(200);
  }
  return { id, key: secret };
}

async function upload(url: string, tenant: Tenant, filename: string, bytes: Uint8Array): Promise<string> {
  const { document, upload: target } = await call<{
    document: { id: string };
    upload: { url: string; headers: Record<string, string> };
  }>(`${url}/api/v1/tenants/${tenant.id}/documents/uploads`, {
    token: tenant.key,
    body: { filename, sizeBytes: bytes.length, chunkSize: 500, chunkOverlap: 50 },
  });
  const put = await fetch(target.url, { method: "PUT", headers: target.headers, body: bytes });
  if (put.status >= 300) throw new Error(`upload of ${filename}: ${put.status}`);
  await call(`${url}/api/v1/tenants/${tenant.id}/documents/${document.id}/ingest`, {
    token: tenant.key,
    method: "POST",
  });
  return document.id;
}

/** Resident bytes of `pid`, and of its child processes (the parse sandbox; instances are detached). */
async function residentBytes(pid: number): Promise<{ self: number; children: number }> {
  const rss = async (of: number) =>
    Number((await readFile(`/proc/${of}/statm`, "utf8").catch(() => "0 0")).split(" ")[1]) * 4096;
  let children = 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after ")".
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === pid) children += await rss(Number(entry));
  }
  return { self: await rss(pid), children };
}

/** CPU seconds `pid` has used (user + system); NaN once it is gone. */
function cpuSeconds(pid: number): Promise<number> {
  return cpuSecondsOf(`/proc/${pid}/stat`).catch(() => Number.NaN);
}

/**
 * The control plane's longest event-loop delay since the previous call, in ms (prom-client's
 * `nodejs_eventloop_lag_max_seconds`, reset on every scrape): near /health's worst, its own loop
 * was blocked or waiting for a core; far below, the time went elsewhere (the client, the network).
 */
async function loopLagMaxMs(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then(
    (response) => response.text(),
    () => "",
  );
  const line = text.split("\n").find((row) => row.startsWith("nodejs_eventloop_lag_max_seconds "));
  return line ? Number(line.split(" ")[1]) * 1000 : Number.NaN;
}

type PhaseStats = {
  /** The control plane's longest event-loop delay in the phase (see loopLagMaxMs). */
  loopLagMaxMs: number;
  /** The control plane's CPU use over the phase, in cores (1 = one core busy all the time). */
  cpuCores: number;
  searchMs: number[];
  searchNon2xx: number;
  healthMs: number[];
  healthNon2xx: number;
  peakRss: number;
  peakChildrenRss: number;
};

/** B searches back to back and /health is polled every 100 ms until `isDone()`. */
async function observe(
  url: string,
  bystander: Tenant,
  pid: number,
  isDone: () => boolean,
): Promise<PhaseStats> {
  await loopLagMaxMs(url); // resets the maximum
  const cpuAtStart = await cpuSeconds(pid);
  const startedAt = performance.now();
  const stats: PhaseStats = {
    cpuCores: 0,
    loopLagMaxMs: Number.NaN,
    searchMs: [],
    searchNon2xx: 0,
    healthMs: [],
    healthNon2xx: 0,
    peakRss: 0,
    peakChildrenRss: 0,
  };
  const queries = ["lighthouse keeper", "storm at sea", "the lamp", "harbour fog", "night watch"];
  const searching = (async () => {
    for (let i = 0; !isDone(); i++) {
      const started = performance.now();
      const status = await requestJson(`${url}/api/v1/search`, {
        token: bystander.key,
        body: { query: queries[i % queries.length], nResults: 5 },
      }).then(
        (answer) => answer.status,
        () => 0,
      );
      stats.searchMs.push(performance.now() - started);
      if (status < 200 || status >= 300) stats.searchNon2xx++;
    }
  })();
  const polling = (async () => {
    while (!isDone()) {
      const tick = sleep(HEALTH_EVERY_MS);
      const started = performance.now();
      // A /health that has not answered when the next poll is due is still counted, at its full time.
      const status = await fetch(`${url}/health`).then(
        (response) => response.status,
        () => 0,
      );
      stats.healthMs.push(performance.now() - started);
      if (status !== 200) stats.healthNon2xx++;
      await tick;
    }
  })();
  const sampling = (async () => {
    while (!isDone()) {
      const { self, children } = await residentBytes(pid);
      stats.peakRss = Math.max(stats.peakRss, self);
      stats.peakChildrenRss = Math.max(stats.peakChildrenRss, children);
      await sleep(HEALTH_EVERY_MS);
    }
  })();
  await Promise.all([searching, polling, sampling]);
  stats.loopLagMaxMs = await loopLagMaxMs(url);
  stats.cpuCores = (await cpuSeconds(pid)) - cpuAtStart;
  stats.cpuCores /= (performance.now() - startedAt) / 1000;
  return stats;
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), "vdb-bench-isolation-"));
const databaseUrl = testStoreKind() === "postgres" ? await createTestDatabase("postgres") : "";
log(`starting a control plane (model ${MODEL})`);
const plane = await startControlPlaneProcess(
  {
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    PORT: String(await freePort()),
    VDB_ADMIN_EMAIL: ADMIN_EMAIL,
    VDB_ADMIN_PASSWORD: ADMIN_PASSWORD,
    INSTANCE_MODEL: MODEL,
    INSTANCE_DIMENSION: "512",
    LOG_LEVEL: "warn",
  },
  180_000, // the shared machine can be very busy
);
try {
  const pid = plane.child.pid!;
  const { token: admin } = await call<{ token: string }>(`${plane.url}/api/v1/auth/login`, {
    body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  });
  const attacker = await createTenant(plane.url, admin, "tenant-a", "enterprise");
  const bystander = await createTenant(plane.url, admin, "tenant-b", "enterprise");
  const story = [
    "The lighthouse keeper kept the lamp burning through the storm.",
    "Fog rolled into the harbour at night.",
  ];
  await call(`${plane.url}/api/v1/embed`, {
    token: bystander.key,
    body: {
      ids: Array.from({ length: 200 }, (_, i) => `b-${i}`),
      documents: Array.from({ length: 200 }, (_, i) => `${story[i % 2]} (record ${i})`),
    },
  });
  const files = await attackFiles();

  const loadNow = () =>
    os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(", ");
  const quietLoad = loadNow();
  log(`quiet: ${QUIET_SECONDS} s of B's searches and /health polls (load ${quietLoad})`);
  const quietUntil = Date.now() + QUIET_SECONDS * 1000;
  const quiet = await observe(plane.url, bystander, pid, () => Date.now() > quietUntil);

  log(`attack: tenant A uploads ${files.length} files (${files.map(([name]) => name).join(", ")})`);
  type Seen = {
    status: string;
    failureReason: string | null;
    chunkCount: number;
    progress: { done: number; total: number } | null;
  };
  const outcomes = new Map<string, Seen>();
  /** What the last poll showed of each file, settled or not (a file left unsettled shows how far it got). */
  const lastSeen = new Map<string, Seen>();
  let isSettled = false;
  const attackStarted = Date.now();
  const attackLoad = loadNow();
  const attack = (async () => {
    const ids = new Map<string, string>();
    for (const [name, bytes] of files) ids.set(name, await upload(plane.url, attacker, name, bytes));
    let nextReport = Date.now() + 30_000;
    while (outcomes.size < files.length && Date.now() - attackStarted < ATTACK_MAX_SECONDS * 1000) {
      await sleep(500);
      if (Date.now() > nextReport) {
        nextReport += 30_000;
        const states = files.map(([name]) => `${name} ${describeSeen(lastSeen.get(name))}`);
        log(`attack, ${Math.round((Date.now() - attackStarted) / 1000)} s: ${states.join("; ")}`);
      }
      // Statuses only (the document listing): a client following ingestion has no use for the
      // chunks, and reading thousands of them every 500 ms would be the bench's own load.
      const { body } = await requestJson<{ items: (Seen & { id: string })[] }>(
        `${plane.url}/api/v1/tenants/${attacker.id}/documents?limit=100`,
        { token: attacker.key },
      );
      const byId = new Map((body?.items ?? []).map((item) => [item.id, item]));
      for (const [name, id] of ids) {
        const document = byId.get(id);
        if (outcomes.has(name) || !document) continue;
        lastSeen.set(name, document);
        if (document.status === "ready" || document.status === "failed") outcomes.set(name, document);
      }
    }
    isSettled = true;
  })();
  const underAttack = await observe(plane.url, bystander, pid, () => isSettled);
  await attack;
  const attackSeconds = (Date.now() - attackStarted) / 1000;
  const load = loadNow();

  const sorted = (values: number[]) => Float64Array.from(values).sort();
  const row = (label: string, stats: PhaseStats) => {
    const search = sorted(stats.searchMs);
    const health = sorted(stats.healthMs);
    return `| ${label} | ${search.length} | ${fixed(percentile(search, 50), 1)} | ${fixed(percentile(search, 99), 1)} | ${stats.searchNon2xx} | ${health.length} | ${fixed(percentile(health, 99), 1)} | ${fixed(health.at(-1) ?? Number.NaN, 1)} | ${stats.healthNon2xx} | ${fixed(stats.peakRss / MB, 0)} | ${fixed(stats.peakChildrenRss / MB, 0)} | ${fixed(stats.cpuCores, 2)} | ${fixed(stats.loopLagMaxMs, 0)} |`;
  };
  const quietP99 = percentile(sorted(quiet.searchMs), 99);
  const attackP99 = percentile(sorted(underAttack.searchMs), 99);
  const worstHealth = Math.max(...underAttack.healthMs);
  const rssAbove = (underAttack.peakRss - quiet.peakRss) / MB;
  const goal = (ok: boolean) => (ok ? "met" : "**not met**");
  const fileRows = files.map(([name, bytes]) => {
    const outcome = outcomes.get(name);
    const outcomeText = outcome?.status ?? `not settled: ${describeSeen(lastSeen.get(name))}`;
    return `| ${name} | ${fixed(bytes.length / MB, 2)} | ${outcomeText} | ${outcome?.chunkCount ?? "–"} | ${outcome?.failureReason ?? ""} |`;
  });

  const markdown = `# bench/isolation — results

Generated by \`pnpm --filter @vdb/bench isolation\` (\`bench/isolation/run.ts\`); overwritten on every run.

| | |
| --- | --- |
${machineRows()}
| Cores | ${coresShared(os.cpus().length)} |
| Load average (\`uptime\`: 1, 5, 15 min) | quiet phase start ${quietLoad}; attack start ${attackLoad}; end ${load} |
| Store | ${testStoreKind()} |
| Control plane | its own process (\`src/main.ts\` via tsx), defaults (PARSE_WORKERS 2, PARSE_TIMEOUT_MS 60000, PARSE_MEMORY_MB 512), instances use \`${MODEL}\` |
| Tenant B | enterprise plan (its request rate, 1,000/s, is above what one connection sends), 200 records; searches back to back at 1 connection (POST /api/v1/search, 5 results) |
| /health | polled every ${HEALTH_EVERY_MS} ms (a slow answer delays the next poll; each answer's own time is counted) |
| Quiet | ${QUIET_SECONDS} s |
| Attack | tenant A (enterprise) uploads the files below, all queued at once; the phase lasts until every one settled (${fixed(attackSeconds, 0)} s) |
| CP CPU | the control-plane process's own CPU time over the phase divided by its length (its parse sandbox and instances not counted): near 1 means its event loop was busy, not waiting for a core |
| CP loop delay | the control plane's longest event-loop delay in the phase (prom-client's \`nodejs_eventloop_lag_max_seconds\` from /metrics): a blocked loop and a wait for a core both show here |
| RSS | resident memory of the control-plane process (peak, sampled every 100 ms), and beside it the peak of its child processes together (the parse sandbox; instances are detached and not counted) |

## Goals (issue 11)

| Goal | Measured | |
| --- | --- | --- |
| B's p99 under attack ≤ 2× its quiet p99 | ${fixed(attackP99, 1)} ms vs ${fixed(quietP99, 1)} ms (${fixed(attackP99 / quietP99, 2)}×) | ${goal(attackP99 <= 2 * quietP99)} |
| /health never slower than 250 ms | worst ${fixed(worstHealth, 1)} ms | ${goal(worstHealth <= 250)} |
| zero non-2xx for B | ${underAttack.searchNon2xx} | ${goal(underAttack.searchNon2xx === 0)} |
| control-plane peak RSS ≤ 300 MB above quiet | ${fixed(rssAbove, 0)} MB above | ${goal(rssAbove <= 300)} |

## Results

| Phase | B searches | B p50 ms | B p99 ms | B non-2xx | /health polls | /health p99 ms | /health worst ms | /health non-200 | CP peak RSS MB | sandbox peak RSS MB | CP CPU (cores) | CP loop delay max ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${row("quiet", quiet)}
${row("tenant A ingesting", underAttack)}

## Tenant A's files

| File | MB | Outcome | Chunks | Reason |
| --- | ---: | --- | ---: | --- |
${fileRows.join("\n")}
`;
  await writeFile(RESULTS_FILE, markdown);
  log(`wrote ${RESULTS_FILE.pathname}`);
  console.log(markdown);
} finally {
  // SIGINT, as Ctrl-C: the control plane stops its instances too (SIGTERM would leave them running).
  await plane.stop("SIGINT");
  if (databaseUrl) await dropTestDatabase(databaseUrl);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
