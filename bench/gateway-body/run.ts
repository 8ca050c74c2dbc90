/**
 * bench/gateway-body: memory held while a 30 MB Chroma `add` goes through the gateway
 * (control plane → instance → Chroma), next to the same body sent to Chroma directly.
 *
 * Each process's peak RSS (VmHWM) is reset just before the request (`/proc/PID/clear_refs`) and
 * read just after: its growth, divided by the body's size, is how many copies of the body the
 * process held at once. The direct send is the baseline: Chroma must hold and parse the body in
 * either case. The control plane runs in this process (startTestServer); the body is built
 * before the reset and sent from a Buffer over node:http, so the client adds nothing.
 *
 *   pnpm --filter @vdb/bench gateway-body      (BENCH_BODY_MB=…, BENCH_ROUNDS=… to change)
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { startTestServer, type TestServer, testStoreKind } from "@vdb/control-plane/testing";
import { benchLog, callJson, coresShared, fixed, machineRows, positiveInt } from "../lib";

const RESULTS_FILE = new URL("./RESULTS.md", import.meta.url);
const BODY_MB = positiveInt(process.env.BENCH_BODY_MB, 30);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 3);
const DIMENSION = 1_536;
const NAMESPACE = "/api/v2/tenants/default_tenant/databases/default_database";
const log = benchLog("gateway-body");
const MiB = 1024 * 1024;

/** A Chroma `add` body of about `megabytes` MB: 1536-d embeddings as JSON numbers, 1 KB documents. */
function addBody(megabytes: number, round: number): Buffer {
  const embedding = Array.from({ length: DIMENSION }, (_, d) => Math.sin(d) / 40);
  const perRecord = JSON.stringify(embedding).length + 1_100;
  const records = Math.floor((megabytes * 1e6) / perRecord);
  const ids = Array.from({ length: records }, (_, i) => `r${round}-${i}`);
  return Buffer.from(
    JSON.stringify({
      ids,
      embeddings: ids.map(() => embedding),
      documents: ids.map((id) => id.padEnd(1_000, ".")),
    }),
  );
}

function children(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
}

/** Sets VmHWM back to the current RSS, so the next read is this request's peak. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

function post(url: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    // A fresh connection: building the body held this process (the control plane's too) for
    // seconds, long enough for the server to be closing any kept-alive one as it resumes.
    const request = http.request(url, {
      agent: false,
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(body.length), ...headers },
    });
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", reject);
    request.end(body);
  });
}

async function createCollection(url: string, headers: Record<string, string>, name: string): Promise<string> {
  const response = await fetch(`${url}${NAMESPACE}/collections`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ name }),
  });
  if (!response.ok) throw new Error(`creating ${name}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

interface Sample {
  bodyBytes: number;
  /** Peak RSS growth per process, in bytes. */
  growth: Record<"controlPlane" | "instance" | "chroma", number>;
}

async function measure(
  pids: Record<"controlPlane" | "instance" | "chroma", number>,
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<Sample> {
  global.gc?.();
  const before = { controlPlane: 0, instance: 0, chroma: 0 };
  for (const name of Object.keys(pids) as (keyof typeof pids)[]) {
    resetPeak(pids[name]);
    before[name] = rssBytes(pids[name]);
  }
  const status = await post(url, headers, body);
  if (status >= 300) throw new Error(`POST ${url}: HTTP ${status}`);
  const growth = { controlPlane: 0, instance: 0, chroma: 0 };
  for (const name of Object.keys(pids) as (keyof typeof pids)[]) {
    growth[name] = peakRssBytes(pids[name]) - before[name];
  }
  return { bodyBytes: body.length, growth };
}

const load = os.loadavg().map((value) => fixed(value, 2));
log(`load average before: ${load.join(" ")}`);
const server: TestServer = await startTestServer({ env: { INSTANCE_MODEL: "hash" } });
const rows: { round: number; gateway: Sample; direct: Sample }[] = [];
try {
  const admin = server.adminToken;
  const api = `${server.url}/api/v1`;
  const tenant = await callJson<{ id: string }>(
    `${api}/tenants`,
    { token: admin, body: { slug: "bench-gateway-body", name: "bench", plan: "enterprise" } },
    201,
  );
  const key = await callJson<{ secret: string }>(
    `${api}/tenants/${tenant.id}/keys`,
    { token: admin, body: { name: "bench", scopes: ["write"] } },
    201,
  );
  await callJson(`${api}/launch`, { token: admin, body: { tenantId: tenant.id } }, 202).catch(async () => {});
  // Building a body holds this process, the control plane's too: its health probe of the
  // instance may time out meanwhile and mark the instance starting until the next probe.
  const untilRunning = async () => {
    for (;;) {
      const state = await new Promise<string>((resolve, reject) => {
        http
          .get(
            `${api}/status/${tenant.id}`,
            { agent: false, headers: { authorization: `Bearer ${admin}` } },
            (res) => {
              const parts: Buffer[] = [];
              res.on("data", (chunk: Buffer) => parts.push(chunk));
              res.on("end", () =>
                resolve((JSON.parse(Buffer.concat(parts).toString()) as { state: string }).state),
              );
            },
          )
          .on("error", reject);
      });
      if (state === "running") return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  await untilRunning();
  const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8");
  const instancePid = children(process.pid).find((pid) => cmdline(pid).includes("instance/src/main.ts"));
  if (instancePid === undefined) throw new Error("no instance process under this one");
  const chromaPid = children(instancePid).find((pid) => cmdline(pid).includes("\0run\0"));
  if (chromaPid === undefined) throw new Error("no Chroma process under the instance");
  const chromaPort = /--port\0(\d+)/.exec(readFileSync(`/proc/${chromaPid}/cmdline`, "utf8"))?.[1];
  const chromaUrl = `http://127.0.0.1:${chromaPort}`;
  const pids = { controlPlane: process.pid, instance: instancePid, chroma: chromaPid };
  const gatewayHeaders = { "x-chroma-token": key.secret };
  const viaGateway = await createCollection(server.url, gatewayHeaders, "via-gateway");
  const direct = await createCollection(chromaUrl, {}, "direct");

  for (let round = 1; round <= ROUNDS; round++) {
    const body = addBody(BODY_MB, round);
    log(`round ${round}: ${fixed(body.length / MiB, 1)} MiB through the gateway, then straight to Chroma`);
    await untilRunning();
    const gateway = await measure(
      pids,
      `${server.url}${NAMESPACE}/collections/${viaGateway}/add`,
      gatewayHeaders,
      body,
    );
    const straight = await measure(pids, `${chromaUrl}${NAMESPACE}/collections/${direct}/add`, {}, body);
    rows.push({ round, gateway, direct: straight });
  }
} finally {
  await server.close();
}

const loadAfter = os.loadavg().map((value) => fixed(value, 2));
const copies = (bytes: number, body: number) => fixed(bytes / body, 2);
const mib = (bytes: number) => fixed(bytes / MiB, 1);
const lines = [
  "# bench/gateway-body — results",
  "",
  "Generated by `pnpm --filter @vdb/bench gateway-body` (`bench/gateway-body/run.ts`); overwritten on every run.",
  "",
  "| | |",
  "| --- | --- |",
  machineRows(),
  `| Cores | ${coresShared(os.cpus().length)} |`,
  `| Load average (1/5/15 min) | before ${load.join(" / ")}, after ${loadAfter.join(" / ")} |`,
  `| Store | ${testStoreKind()} |`,
  `| Body | a Chroma \`add\` of ${DIMENSION}-d embeddings as JSON numbers and 1 KB documents, about ${BODY_MB} MB |`,
  "| Measure | each process's peak RSS (VmHWM, reset just before the request) minus its RSS then; ÷ body size = copies of the body held at once |",
  "",
  "## Results",
  "",
  "Growth of peak RSS in MiB (copies of the body in brackets). The baseline is the same body sent",
  "straight to Chroma, which must hold and parse it whatever sits in front of it.",
  "",
  "| Round | Body MiB | Gateway: control plane | Gateway: instance | Gateway: Chroma | Direct: Chroma (baseline) |",
  "| ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map(
    ({ round, gateway, direct }) =>
      `| ${round} | ${mib(gateway.bodyBytes)} | ${mib(gateway.growth.controlPlane)} (${copies(gateway.growth.controlPlane, gateway.bodyBytes)}) | ${mib(gateway.growth.instance)} (${copies(gateway.growth.instance, gateway.bodyBytes)}) | ${mib(gateway.growth.chroma)} (${copies(gateway.growth.chroma, gateway.bodyBytes)}) | ${mib(direct.growth.chroma)} (${copies(direct.growth.chroma, direct.bodyBytes)}) |`,
  ),
  "",
];
writeFileSync(RESULTS_FILE, `${lines.join("\n")}`);
log(`wrote ${RESULTS_FILE.pathname}`);
process.exit(0);
