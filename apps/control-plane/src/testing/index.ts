/**
 * Test and benchmark harness: a real control plane on a real store, in-process.
 * `VDB_TEST_STORE=postgres` (with `TEST_DATABASE_URL` pointing at a server whose user may
 * create databases) gives each harness a fresh PostgreSQL database; otherwise PGlite files in the
 * harness's DATA_DIR, copied from a migrated template (`pglite-template.ts`).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { serveApp } from "@vdb/http/serve";
import { jsonRequest } from "@vdb/http/testing";
import postgres from "postgres";
import { type App, createApp } from "../app";
import { type Config, loadConfig } from "../config";
import { systemCtx } from "../lib/context";
import { isPostgresUrl } from "../lib/db/client";
import { createLogger } from "../lib/logger";
import { createServices, type Services } from "../services";
import { createTenant } from "../tenants/create-tenant";
import { ensureFirstAdmin } from "../users/ensure-first-admin";
import { seedPgliteDataDir, TEST_PGLITE_SHARED_BUFFERS } from "./pglite-template";
import { freePort } from "./process";

export const ADMIN_EMAIL = "admin@vdb.test";
export const ADMIN_PASSWORD = "correct-horse-battery";
/**
 * scrypt's cost for the tests' passwords: every test control plane hashes its first operator's
 * and checks it at each login; at the production cost (16384) that was ~40 ms of CPU each time.
 */
export const TEST_PASSWORD_HASH_COST = "1024";

export type TestStoreKind = "pglite" | "postgres";

/**
 * A port range of its own for each test control plane's instances: suites run in parallel, and
 * two control planes drawing from one range would keep colliding (and healing) on ports.
 *
 * Below the kernel's ephemeral ports (as production's default, 9100-9499, is): a port the control
 * plane found free could otherwise be taken, before its instance bound it, by a Chroma's port
 * (chosen by the kernel) or an outgoing connection's; the instance then failed to start and was
 * restarted on another port, which tests counting restarts saw (restartCount 1 or 2 before a
 * test had done anything, on a loaded CI machine).
 */
export function testInstancePorts(): string {
  const ranges = Math.floor((EPHEMERAL_PORTS_FROM - TEST_PORTS_FROM) / 100);
  const base = TEST_PORTS_FROM + Math.floor(Math.random() * ranges) * 100;
  return `${base}-${base + 99}`;
}

const TEST_PORTS_FROM = 10_000;

/** The first port the kernel hands out for `bind(0)` and outgoing connections (Linux; else its default). */
const EPHEMERAL_PORTS_FROM = (() => {
  try {
    const first = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
    );
    return first > TEST_PORTS_FROM + 1_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
})();

export function testStoreKind(): TestStoreKind {
  return process.env.VDB_TEST_STORE === "postgres" ? "postgres" : "pglite";
}

/**
 * A database URL for one harness: a new, empty PostgreSQL database, or "" for PGlite: files in
 * the harness's DATA_DIR, copied from a migrated template (`seedPgliteDataDir`) when it opens.
 */
export async function createTestDatabase(kind: TestStoreKind = testStoreKind()): Promise<string> {
  if (kind === "pglite") return "";
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    throw new Error("VDB_TEST_STORE=postgres needs TEST_DATABASE_URL (the root `npm test` sets it up)");
  }
  const name = `vdb_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database "${name}"`);
  } finally {
    await sql.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestServer {
  url: string;
  app: App;
  services: Services;
  config: Config;
  /** Session token of the first operator. */
  adminToken: string;
  /** Stops it; its instances too unless `stopInstances: false` (see `Services.close`). */
  close(opts?: { stopInstances?: boolean }): Promise<void>;
}

/** Starts a control plane on a free port against `databaseUrl` (default: a fresh test database). */
export async function startTestServer(
  opts: { databaseUrl?: string; env?: Record<string, string>; now?: () => number } = {},
): Promise<TestServer> {
  const ownsDatabase = opts.databaseUrl === undefined;
  const databaseUrl = opts.databaseUrl ?? (await createTestDatabase());
  // A known port up front: instances fetch the JWKS from PUBLIC_URL, so it must be the real one.
  const port = Number(opts.env?.PORT ?? (await freePort()));
  const ownsDataDir = opts.env?.DATA_DIR === undefined;
  const dataDir = opts.env?.DATA_DIR ?? mkdtempSync(path.join(tmpdir(), "vdb-test-"));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    INSTANCE_PORTS: testInstancePorts(),
    INSTANCE_MODEL: "hash",
    INSTANCE_DIMENSION: "64",
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    VDB_ADMIN_EMAIL: ADMIN_EMAIL,
    VDB_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // Tests that move the clock must not put instances to sleep unless they are about sleeping.
    INSTANCE_SLEEP_AFTER_IDLE_MS: "0",
    PGLITE_SHARED_BUFFERS: TEST_PGLITE_SHARED_BUFFERS,
    PASSWORD_HASH_COST: TEST_PASSWORD_HASH_COST,
    // The reconciler and the auth poll keep their production intervals (1 s): what a user changes
    // is acted on at once (a kick, an exit event), so only tests of what a sweep finds by itself
    // (missed probes, idleness) set a shorter one. Measured idle with one instance: at 200 ms the
    // control plane spent ~60 ms of CPU a second and its instance ~28; at 1 s, ~27 and ~15.
    ...opts.env,
    PORT: String(port),
  });
  await seedPgliteDataDir(dataDir, databaseUrl);
  const services = await createServices(config, {
    logger: createLogger(config.LOG_LEVEL),
    ...(opts.now ? { now: opts.now } : {}),
  });
  await ensureFirstAdmin(services);
  const app = createApp(services);
  const server = await new Promise<ReturnType<typeof serveApp>>((resolve) => {
    const started = serveApp({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => resolve(started));
  });
  const url = `http://127.0.0.1:${port}`;
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  const { token } = (await login.json()) as { token: string };
  return {
    url,
    app,
    services,
    config,
    adminToken: token,
    async close(closeOpts) {
      server.closeAllConnections(); // live subscriptions would hold close() open
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.close(closeOpts);
      if (ownsDatabase) await dropTestDatabase(databaseUrl);
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Drops a database made by `createTestDatabase` (PGlite's files go with their DATA_DIR). */
export async function dropTestDatabase(databaseUrl: string): Promise<void> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!isPostgresUrl(databaseUrl) || !adminUrl) return;
  const name = new URL(databaseUrl).pathname.slice(1);
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    // Best effort: `with (force)` must end every connection, and an autovacuum worker that
    // happens to be on the database may not be ours to end. A leftover test database is harmless.
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  } finally {
    await sql.end();
  }
}

/** Creates a tenant as the platform (no HTTP), for tests that need one to exist. */
export async function seedTenant(
  services: Services,
  slug: string,
  plan: "starter" | "pro" | "enterprise" = "starter",
) {
  const ctx = systemCtx(services);
  return createTenant({
    ctx: {
      ...ctx,
      principal: {
        kind: "user",
        userId: "usr_system",
        email: "system",
        isOperator: true,
        mustChangePassword: false,
        memberships: [],
      },
    },
    input: { slug, name: slug, plan },
  });
}

/**
 * Posts a text document to a tenant as the platform operator (`POST /api/v1/docs`) and waits
 * until it is ingested; returns its id. Throws when it is refused or fails, with the reason.
 */
export async function ingestText(
  server: TestServer,
  tenantId: string,
  title: string,
  text: string,
  timeoutMs = 60_000,
): Promise<string> {
  const api = `${server.url}/api/v1`;
  const created = await jsonRequest<{ id: string }>(api, "POST", `/docs?tenantId=${tenantId}`, {
    token: server.adminToken,
    body: { title, text },
  });
  if (created.status !== 201)
    throw new Error(`posting ${title}: HTTP ${created.status} ${JSON.stringify(created.body)}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const document = await jsonRequest<{ status: string }>(
      api,
      "GET",
      `/docs/${created.body.id}?tenantId=${tenantId}`,
      {
        token: server.adminToken,
      },
    );
    if (document.body.status === "ready") return created.body.id;
    if (document.body.status === "failed" || Date.now() > deadline) {
      throw new Error(`ingestion of ${title}: ${JSON.stringify(document.body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
