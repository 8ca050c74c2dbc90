/**
 * bench/provision (move): how long a tier move pauses a tenant's writes, and what its clients see.
 *
 * One control plane (startTestServer: local instances, the `hash` model). For each size in
 * BENCH_MOVE_RECORDS (default 100 and 900 records, written through `/embed` beforehand: the Free plan
 * holds 1,000 and refuses a move beyond), a
 * Starter tenant (dedicated) is moved to Free (a pool) and back, BENCH_MOVE_RUNS times (default 3).
 * During each move a writer sends one `/embed` every 500 ms and a reader one `/search` every
 * 500 ms with the tenant's API key, as a live application would (4 requests/s: within the Free
 * plan's 5). Per move:
 * - `paused`, what the control plane audits (`tenant.move`'s `pausedMs`: from the plan change
 *   to the switch, the time its writes are refused);
 * - the longest run of refused writes the writer saw (first refusal → next accepted write);
 * - the move's whole time (plan change → `succeeded`), refused reads (must be 0) and whether
 *   every accepted write is found afterwards (counted with `/records`).
 *
 *   BENCH_SHARED_WITH="…" pnpm --filter @vdb/bench move
 */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { startTestServer, testStoreKind } from "@vdb/control-plane/testing";
import { benchLog, callJson, coresShared, machineRows, median, ms, positiveInt, requestJson } from "../lib";

const log = benchLog("provision:move");
const RESULTS_FILE = new URL("./MOVE-RESULTS.md", import.meta.url);
const RUNS = positiveInt(process.env.BENCH_MOVE_RUNS, 3);
const SIZES = (process.env.BENCH_MOVE_RECORDS ?? "100,900")
  .split(",")
  .map((size) => positiveInt(size, 1_000));
const EVERY_MS = 500;
const BATCH = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface MoveRun {
  /** Records the tenant held when the move began (BENCH_MOVE_RECORDS). */
  size: number;
  direction: "to shared" | "to dedicated";
  /** Audited: plan change → switch. */
  pausedMs: number;
  /** The writer's longest run of refusals: first refused → next accepted write. */
  refusedMs: number;
  totalMs: number;
  refusedWrites: number;
  acceptedWrites: number;
  /** 429s to the writer or the reader: the bench's own rate, which must stay within the plan's. */
  rateLimited: number;
  /** Calls of the writer or the reader whose connection failed (no HTTP answer at all). */
  connectionErrors: number;
  failedReads: number;
  reads: number;
  /** Every accepted write found afterwards, and the records written before the move. */
  isComplete: boolean;
}

async function main() {
  const server = await startTestServer();
  const api = `${server.url}/api/v1`;
  const admin = server.adminToken;
  const runs: MoveRun[] = [];
  const loadStart = os.loadavg();
  try {
    for (const size of SIZES) {
      const slug = `bench-move-${size}-${Date.now().toString(36)}`;
      const tenant = await callJson<{ id: string }>(
        `${api}/tenants`,
        { token: admin, body: { slug, name: slug, plan: "starter" } },
        201,
      );
      const key = (
        await callJson<{ secret: string }>(
          `${api}/tenants/${tenant.id}/keys`,
          { token: admin, body: { name: "bench", scopes: ["read", "write"] } },
          201,
        )
      ).secret;
      await callJson(`${api}/launch`, { token: admin, body: { tenantId: tenant.id } });
      await waitFor(`${slug} running`, async () => {
        const status = await requestJson<{ state?: string }>(`${api}/status/${tenant.id}`, { token: admin });
        return status.body?.state === "running";
      });
      log(`${slug}: writing ${size} records`);
      for (let start = 0; start < size; start += BATCH) {
        const ids = Array.from({ length: Math.min(BATCH, size - start) }, (_, i) => `r${start + i}`);
        await callJson(`${api}/embed`, {
          token: key,
          body: { ids, documents: ids.map((id) => `record ${id} of the move bench`) },
          onRateLimited: () => {},
        });
      }
      for (let run = 0; run < RUNS; run++) {
        for (const plan of ["free", "starter"] as const) {
          const moved = await moveOnce({
            api,
            admin,
            key,
            tenantId: tenant.id,
            plan,
            size,
            run,
          });
          runs.push(moved);
          log(
            `${size} ${moved.direction}: paused ${ms(moved.pausedMs)}, writer refused ${ms(moved.refusedMs)}, total ${ms(moved.totalMs)}, failed reads ${moved.failedReads}, complete ${moved.isComplete}`,
          );
        }
      }
    }
  } finally {
    await server.close();
  }
  const table = render({ runs, loadStart, loadEnd: os.loadavg(), storeKind: testStoreKind() });
  await writeFile(RESULTS_FILE, table);
  process.stdout.write(table);
}

async function moveOnce(opts: {
  api: string;
  admin: string;
  key: string;
  tenantId: string;
  plan: "free" | "starter";
  size: number;
  run: number;
}): Promise<MoveRun> {
  const { api, admin, key, tenantId, plan } = opts;
  let isMoving = true;
  const accepted: string[] = [];
  let refusedWrites = 0;
  let refusedSince: number | null = null;
  let refusedMs = 0;
  let reads = 0;
  let failedReads = 0;
  let rateLimited = 0;
  let connectionErrors = 0;
  const writer = (async () => {
    for (let n = 0; isMoving; n++) {
      const id = `live-${plan}-${opts.run}-${n}`;
      const answer = await requestJson(`${api}/embed`, {
        token: key,
        body: { ids: [id], documents: [`written while moving, ${id}`] },
      }).catch(() => null);
      if (answer === null) connectionErrors++;
      else if (answer.status === 429) rateLimited++;
      else if (answer.status === 200) {
        accepted.push(id);
        if (refusedSince !== null) refusedMs = Math.max(refusedMs, Date.now() - refusedSince);
        refusedSince = null;
      } else {
        refusedWrites++;
        refusedSince ??= Date.now();
      }
      await sleep(EVERY_MS);
    }
  })();
  const reader = (async () => {
    while (isMoving) {
      const answer = await requestJson(`${api}/search`, {
        token: key,
        body: { query: "record of the move bench", nResults: 3, mode: "vector" },
      }).catch(() => null);
      reads++;
      if (answer === null) connectionErrors++;
      else if (answer.status === 429) rateLimited++;
      else if (answer.status !== 200) failedReads++;
      await sleep(EVERY_MS);
    }
  })();
  await sleep(500); // the clients are going before the plan changes
  const started = Date.now();
  const changed = await callJson<{ move: { id: string } | null }>(`${api}/tenants/${tenantId}`, {
    method: "PATCH",
    token: admin,
    body: { plan },
  });
  if (!changed.move) throw new Error(`the plan change to ${plan} started no move`);
  const moveId = changed.move.id;
  let status = "queued";
  await waitFor(`move ${moveId}`, async () => {
    status = (
      await callJson<{ status: string }>(`${api}/tenants/${tenantId}/moves/${moveId}`, { token: admin })
    ).status;
    return status !== "queued" && status !== "running";
  });
  const totalMs = Date.now() - started;
  // The writer's refusals end with its first accepted write after the switch.
  await waitFor("a write accepted after the move", async () => refusedSince === null);
  isMoving = false;
  await Promise.all([writer, reader]);
  if (status !== "succeeded") throw new Error(`move ${moveId}: ${status}`);
  const audit = await callJson<{ items: { metadata: Record<string, unknown> | null }[] }>(
    `${api}/audit?tenantId=${tenantId}&action=tenant.move`,
    {
      token: admin,
    },
  );
  const entry = audit.items.find((item) => item.metadata?.moveId === moveId);
  const pausedMs = Number(entry?.metadata?.pausedMs ?? Number.NaN);
  const checked = accepted.slice(0, 1_000);
  const found =
    checked.length === 0
      ? { records: [], count: Number.NaN }
      : await callJson<{ records: unknown[]; count: number }>(`${api}/records`, {
          token: key,
          body: { ids: checked, limit: checked.length },
        });
  const { count } =
    checked.length === 0
      ? await callJson<{ count: number }>(`${api}/records`, { token: key, body: { limit: 1 } })
      : found;
  // The live writes go again, so every move starts from `size` records (the Free plan's quota).
  for (let start = 0; start < accepted.length; start += 1_000) {
    await callJson(`${api}/delete`, { token: key, body: { ids: accepted.slice(start, start + 1_000) } });
  }
  return {
    size: opts.size,
    direction: plan === "free" ? "to shared" : "to dedicated",
    pausedMs,
    refusedMs,
    totalMs,
    refusedWrites,
    acceptedWrites: accepted.length,
    rateLimited,
    connectionErrors,
    failedReads,
    reads,
    isComplete: found.records.length === checked.length && count === opts.size + accepted.length,
  };
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 300 s`);
    await sleep(50);
  }
}

function render(input: {
  runs: MoveRun[];
  loadStart: number[];
  loadEnd: number[];
  storeKind: string;
}): string {
  const { runs } = input;
  const rows: string[] = [];
  for (const size of SIZES) {
    for (const direction of ["to shared", "to dedicated"] as const) {
      const group = runs.filter((run) => run.size === size && run.direction === direction);
      if (group.length === 0) continue;
      const med = (pick: (run: MoveRun) => number) => ms(median(group.map(pick)));
      const range = (pick: (run: MoveRun) => number) =>
        `${ms(Math.min(...group.map(pick)))}–${ms(Math.max(...group.map(pick)))}`;
      const sum = (pick: (run: MoveRun) => number) => group.reduce((total, run) => total + pick(run), 0);
      rows.push(
        `| ${size.toLocaleString("en-US")} | ${direction} | ${group.length} | ${med((r) => r.pausedMs)} (${range((r) => r.pausedMs)}) | ${med((r) => r.refusedMs)} (${range((r) => r.refusedMs)}) | ${med((r) => r.totalMs)} | ${sum((r) => r.refusedWrites)} of ${sum((r) => r.refusedWrites + r.acceptedWrites)} | ${sum((r) => r.failedReads)} of ${sum((r) => r.reads)} | ${sum((r) => r.rateLimited)} | ${sum((r) => r.connectionErrors)} | ${group.every((r) => r.isComplete) ? "yes" : "**no**"} |`,
      );
    }
  }
  return [
    "# bench/provision (move) — results",
    "",
    "Generated by `pnpm --filter @vdb/bench move` (`bench/provision/move.ts`); overwritten on every run.",
    "A Starter tenant (dedicated) moved to Free (a pool) and back, with a client writing one record",
    `and searching once every ${EVERY_MS} ms each during every move (its API key, \`/embed\` and \`/search\`).`,
    "",
    "| | |",
    "| --- | --- |",
    machineRows(),
    `| Cores | ${coresShared(os.cpus().length)} |`,
    `| Load average (1 / 5 / 15 min) | at the start ${input.loadStart.map((v) => v.toFixed(2)).join(" / ")}; at the end ${input.loadEnd.map((v) => v.toFixed(2)).join(" / ")} |`,
    `| Store | ${input.storeKind} |`,
    "| Model | `hash` (the test servers' default: embedding costs nothing here) |",
    "",
    "Medians (min–max) over the runs. *Paused*: what the control plane audits for the move",
    "(`tenant.move`'s `pausedMs`, from the plan change to the switch: the tenant's writes are refused",
    "with 503 and Retry-After meanwhile, its reads go on). *Writer refused*: the client's longest run",
    "of refusals, first refused write to the next accepted one. *Complete*: every write the client",
    "had accepted, and every record written before, found after the move.",
    "",
    "| records | move | runs | paused, audited (ms) | writer refused (ms) | whole move (ms) | refused writes | failed reads | 429s | connection errors | complete |",
    "| ---: | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows,
    "",
  ].join("\n");
}

await main();
