import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort, isPidAlive } from "@vdb/http/processes";
import { newId } from "@vdb/schemas/ids";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTANCE_DIR, instanceEntry } from "./entry";
import { createTestIssuer, INSTANCE_MAIN, instanceApi, type TestIssuer } from "./testing";

interface RunningInstance {
  child: ChildProcess;
  url: string;
  chromaPid: number;
  chromaUrl: string;
  exited: Promise<number | null>;
}

let issuer: TestIssuer;
let dataDir: string;
/** The compiled build, made as `pnpm --filter @vdb/instance build` makes dist/ (beside it). */
const COMPILED_DIR = path.join(INSTANCE_DIR, "dist-test");
const tenant = newId("tenant");
const started: ChildProcess[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "vdb-instance-"));
  await promisify(execFile)(process.execPath, ["build.mjs", "--outdir", COMPILED_DIR], { cwd: INSTANCE_DIR });
});
afterAll(async () => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await issuer?.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(COMPILED_DIR, { recursive: true, force: true });
});

/**
 * `node --import tsx src/main.ts` (or the given `node` arguments, the compiled build's) as a
 * runtime starts it; resolves on its `instance listening` line.
 */
async function startInstance(
  env: Record<string, string> = {},
  args = ["--import", "tsx", INSTANCE_MAIN],
): Promise<RunningInstance> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      TENANT_ID: tenant,
      MODEL_NAME: "hash",
      DIMENSION: "32",
      MAX_DOCS: "1000",
      DATA_DIR: dataDir,
      JWKS_URL: issuer.jwksUrl,
      TOKEN_ISSUER: issuer.issuer,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      CHROMA_URL: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let output = "";
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const line = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "instance listening" within 30 s:\n${output}`)),
      30_000,
    );
    child.stdout?.on("data", (chunk) => {
      output += chunk;
      for (const text of output.split("\n")) {
        if (!text.includes('"instance listening"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(text));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
  return { child, url: line.url, chromaPid: line.chroma.pid, chromaUrl: line.chroma.url, exited };
}

/** Local addresses listening on `port`, from /proc/net/tcp (hex, little-endian IPv4). */
async function listenAddresses(port: number): Promise<string[]> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const tables = await Promise.all(
    ["/proc/net/tcp", "/proc/net/tcp6"].map((file) => readFile(file, "utf8").catch(() => "")),
  );
  return tables
    .flatMap((table) => table.split("\n").slice(1))
    .map((row) => row.trim().split(/\s+/))
    .filter((cols) => cols[1]?.endsWith(`:${hexPort}`) && cols[3] === "0A")
    .map((cols) => cols[1]!.split(":")[0]!);
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe("the instance process", () => {
  it("starts its own Chroma on loopback, serves, and on SIGTERM exits 0 leaving no Chroma behind", async () => {
    const instance = await startInstance();
    expect(isPidAlive(instance.chromaPid)).toBe(true);
    const chromaPort = Number(new URL(instance.chromaUrl).port);
    expect(await listenAddresses(chromaPort)).toEqual(["0100007F"]); // 127.0.0.1 only

    const health = await instanceApi(instance.url, "GET", "/healthz", {
      token: await issuer.mint({ tenant, scopes: ["read"] }),
    });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "ok", tenantId: tenant, model: "hash", dimension: 32 });

    const token = await issuer.mint({ tenant, scopes: ["write"] });
    const embed = await instanceApi(instance.url, "POST", "/embed", {
      token,
      body: { ids: ["a", "b"], documents: ["kept across restarts", "also kept"] },
    });
    expect(embed.status).toBe(200);

    // Stopped at once, before the keyword index's snapshot was due: the stop saves it, so the
    // next start loads it instead of rebuilding it from Chroma (no write-ahead marker left).
    instance.child.kill("SIGTERM");
    expect(await instance.exited).toBe(0);
    expect(isPidAlive(instance.chromaPid)).toBe(false);
    const keywordFiles = await readdir(path.join(dataDir, "keyword"));
    expect(keywordFiles.filter((file) => file.endsWith(".json"))).toHaveLength(1);
    expect(keywordFiles.filter((file) => file.endsWith(".dirty"))).toEqual([]);
  });

  it("keeps its data across restarts, and restarts its own Chroma in place when it dies", async () => {
    const instance = await startInstance();
    const token = await issuer.mint({ tenant, scopes: ["read"] });
    const health = await instanceApi(instance.url, "GET", "/healthz", { token });
    expect(health.body.counts).toEqual({ collections: 1, documents: 2 });

    process.kill(instance.chromaPid, "SIGKILL");
    // The same instance process answers throughout: 503 while Chroma restarts, then the data.
    let search = await instanceApi(instance.url, "POST", "/search", { token, body: { query: "kept" } });
    while (search.status !== 200 && instance.child.exitCode === null) {
      expect(search.status, JSON.stringify(search.body)).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 50));
      search = await instanceApi(instance.url, "POST", "/search", { token, body: { query: "kept" } });
    }
    expect(search.status, JSON.stringify(search.body)).toBe(200);
    expect(search.body.results.map((result: { id: string }) => result.id).sort()).toEqual(["a", "b"]);
    expect(instance.child.exitCode).toBeNull();
    const newChromaPid = Number(await readFile(path.join(dataDir, "chroma", "chroma.pid"), "utf8"));
    expect(newChromaPid).not.toBe(instance.chromaPid);
    expect(isPidAlive(newChromaPid)).toBe(true);

    instance.child.kill("SIGTERM");
    expect(await instance.exited).toBe(0);
    expect(isPidAlive(newChromaPid)).toBe(false);
  });

  it("reclaims a Chroma orphaned by a SIGKILLed instance before starting its own", async () => {
    const first = await startInstance();
    first.child.kill("SIGKILL");
    await first.exited;
    expect(isPidAlive(first.chromaPid)).toBe(true); // nothing could stop it: the orphan

    const second = await startInstance();
    expect(await waitUntil(() => !isPidAlive(first.chromaPid), 5_000)).toBe(true);
    expect(second.chromaPid).not.toBe(first.chromaPid);
    const health = await instanceApi(second.url, "GET", "/healthz", {
      token: await issuer.mint({ tenant, scopes: ["read"] }),
    });
    expect(health.body).toMatchObject({ status: "ok", counts: { documents: 2 } });

    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(isPidAlive(second.chromaPid)).toBe(false);
  });

  it("a pool runs its Chroma from a config file (the bounded index cache), and reclaims it when orphaned too", async () => {
    const poolDir = await mkdtemp(path.join(os.tmpdir(), "vdb-pool-"));
    // 19 MB buys 3 loaded indexes of this test's 32-d vectors (~6 MB each: hnswIndexMb).
    const env = {
      TENANT_ID: "",
      POOL_ID: newId("pool"),
      DATA_DIR: poolDir,
      POOL_CHROMA_INDEX_MEMORY_MB: "19",
    };
    try {
      const first = await startInstance(env);
      const cmdline = (await readFile(`/proc/${first.chromaPid}/cmdline`, "utf8"))
        .split("\0")
        .filter(Boolean);
      const configFile = path.join(poolDir, "chroma", "chroma-config.yaml");
      expect(cmdline.slice(-2)).toEqual(["run", configFile]);
      expect(await readFile(configFile, "utf8")).toMatch(
        /hnsw_index_pool_cache_config:\n {4}memory:\n {6}capacity: 3\n/,
      );
      first.child.kill("SIGKILL");
      await first.exited;
      expect(isPidAlive(first.chromaPid)).toBe(true);

      const second = await startInstance(env);
      expect(await waitUntil(() => !isPidAlive(first.chromaPid), 5_000)).toBe(true);
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
      expect(isPidAlive(second.chromaPid)).toBe(false);
    } finally {
      await rm(poolDir, { recursive: true, force: true });
    }
  });

  it("runs compiled (no tsx): embeds with use-lite in worker threads, searches, and stops them on SIGTERM", async () => {
    const entry = instanceEntry(COMPILED_DIR);
    expect(entry).toMatchObject({ isCompiled: true, args: [path.join(COMPILED_DIR, "main.mjs")] });
    const useLiteTenant = newId("tenant");
    const instance = await startInstance(
      {
        TENANT_ID: useLiteTenant,
        DATA_DIR: path.join(dataDir, "use-lite"),
        MODEL_NAME: "use-lite",
        DIMENSION: "512",
        EMBED_WORKERS: "2",
      },
      entry.args,
    );
    const cmdline = (await readFile(`/proc/${instance.child.pid}/cmdline`, "utf8")).split("\0");
    expect(cmdline.some((arg) => arg.includes("tsx"))).toBe(false);
    const token = await issuer.mint({ tenant: useLiteTenant, scopes: ["write"] });
    const health = await instanceApi(instance.url, "GET", "/healthz", { token });
    expect(health.body).toMatchObject({ status: "ok", model: "use-lite", dimension: 512 });
    const texts = Array.from(
      { length: 20 },
      (_, index) => `note ${index} about ${index % 2 ? "cats" : "invoices"}`,
    );
    const embed = await instanceApi(instance.url, "POST", "/embed", {
      token,
      body: { ids: texts.map((_, index) => `n${index}`), documents: texts },
    });
    expect(embed.status, JSON.stringify(embed.body)).toBe(200);
    expect(embed.body).toMatchObject({ upserted: 20, dimension: 512, truncated: [] });
    const search = await instanceApi(instance.url, "POST", "/search", {
      token,
      body: { query: "a kitten", nResults: 1 },
    });
    expect(search.body.results[0].document).toContain("cats");

    instance.child.kill("SIGTERM");
    expect(await instance.exited).toBe(0);
    expect(isPidAlive(instance.chromaPid)).toBe(false);
  });
});
