import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPidAlive } from "../lib/process-identity";
import { createTestDatabase, dropTestDatabase, testStoreKind } from "../testing";
import { api } from "../testing/http";
import {
  type ControlPlaneProcess,
  childPidsOf,
  freePort,
  startControlPlaneProcess,
} from "../testing/process";

const EMAIL = "admin@restart.test";
const PASSWORD = "correct-horse-battery";

function instancePid(dataDir: string, tenantId: string): number {
  return JSON.parse(readFileSync(path.join(dataDir, "instances", tenantId, "instance.json"), "utf8")).pid;
}

async function login(plane: ControlPlaneProcess): Promise<string> {
  const session = await api(plane.url, "POST", "/auth/login", { body: { email: EMAIL, password: PASSWORD } });
  return session.body.token;
}

async function until<T>(read: () => Promise<T>, holds: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (holds(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("restarting the control plane (a real process, as `npm start` runs it)", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-cp-restart-"));
  let databaseUrl = "";
  let env: Record<string, string>;
  let plane: ControlPlaneProcess | null = null;
  beforeAll(async () => {
    // PGlite on disk survives the restart; PostgreSQL gets a fresh database.
    if (testStoreKind() === "postgres") databaseUrl = await createTestDatabase("postgres");
    env = {
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      // The same URL across restarts: running instances fetch the JWKS from it.
      PORT: String(await freePort()),
      VDB_ADMIN_EMAIL: EMAIL,
      VDB_ADMIN_PASSWORD: PASSWORD,
      INSTANCE_MODEL: "hash",
      INSTANCE_DIMENSION: "64",
      RECONCILE_INTERVAL_MS: "200",
    };
  });
  afterAll(async () => {
    await plane?.stop("SIGINT");
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("SIGTERM leaves instances running and the next control plane serves them at once; SIGINT stops them all", async () => {
    plane = await startControlPlaneProcess(env, 240_000);
    const token = await login(plane);
    const tenant = await api(plane.url, "POST", "/tenants", { token, body: { slug: "kept", name: "K" } });
    const tenantId = tenant.body.id as string;
    const key = (
      await api(plane.url, "POST", `/tenants/${tenantId}/keys`, {
        token,
        body: { name: "k", scopes: ["read", "write"] },
      })
    ).body.secret as string;
    await api(plane.url, "POST", "/launch", { token, body: { tenantId } });
    const first = plane;
    await until(
      () => api(first.url, "GET", `/status/${tenantId}`, { token }),
      (status) => status.body.state === "running",
    );
    const embedded = await api(plane.url, "POST", "/embed", {
      token: key,
      body: { ids: ["kept"], documents: ["survives restarts"] },
    });
    expect(embedded.status).toBe(200);
    const pid = instancePid(dataDir, tenantId);
    const [chroma] = childPidsOf(pid);

    // A supervisor's restart: SIGTERM, then a new process.
    await plane.stop("SIGTERM");
    plane = null;
    expect(isPidAlive(pid)).toBe(true);
    plane = await startControlPlaneProcess(env, 240_000);
    expect((await fetch(`${plane.url}/health`)).status).toBe(200);
    // The very first search after the control plane is up is served by the same instance.
    const search = await api(plane.url, "POST", "/search", { token: key, body: { query: "survives" } });
    expect({ status: search.status, error: search.body.error }).toEqual({ status: 200, error: undefined });
    expect(search.body.results[0].id).toBe("kept");
    expect(instancePid(dataDir, tenantId)).toBe(pid);

    // Ctrl-C: the platform is stopped, instances and their Chroma with it.
    await plane.stop("SIGINT");
    plane = null;
    expect(isPidAlive(pid)).toBe(false);
    expect(chroma && isPidAlive(chroma)).toBe(false);
  }, 900_000); // three control-plane starts and an instance's, on a machine shared by many test runs
});
