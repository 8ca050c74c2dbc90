import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { testStoreKind } from "./testing";
import { api } from "./testing/http";
import { freePort, runControlPlaneToExit, startControlPlaneProcess } from "./testing/process";

// The README's run command on embedded defaults: PGlite files under DATA_DIR.
describe.runIf(testStoreKind() === "pglite")("starting the control plane on embedded defaults", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-start-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // How fast it starts is bench/provision's to measure: a busy CI machine failed a 10 s bound here.
  it("prints its URL and a one-time login that must be replaced; a restart keeps the data", {
    timeout: 300_000,
  }, async () => {
    // A first run's own store: initdb (in its child process) and every migration.
    const first = await startControlPlaneProcess({ DATA_DIR: dataDir, DATABASE_URL: "" }, 120_000, {
      initdb: true,
    });
    const printed = first.output();
    expect(printed).toContain(`running at ${first.url}`);
    expect(printed).toContain(`${first.url}/api/v1/docs`);
    const login = /Log in as:\s+(\S+) \/ (\S+)/.exec(printed);
    expect(login).not.toBeNull();
    const session = await api(first.url, "POST", "/auth/login", {
      body: { email: login![1], password: login![2] },
    });
    expect(session.status).toBe(200);
    // The printed password was in a terminal, maybe a log: it opens nothing until replaced.
    const token = session.body.token;
    const early = await api(first.url, "POST", "/tenants", { token, body: { slug: "kept", name: "K" } });
    expect(early.status).toBe(403);
    const own = "the-operators-own-password";
    const changed = await api(first.url, "POST", "/auth/password", {
      token,
      body: { currentPassword: login![2], newPassword: own },
    });
    expect(changed.status).toBe(200);
    const tenant = await api(first.url, "POST", "/tenants", { token, body: { slug: "kept", name: "K" } });
    expect(tenant.status).toBe(201);
    await first.stop();

    // VDB_ADMIN_EMAIL applies to the first start only: a later one names the operator there is.
    const second = await startControlPlaneProcess(
      { DATA_DIR: dataDir, DATABASE_URL: "", VDB_ADMIN_EMAIL: "someone-else@vdb.test" },
      120_000,
    );
    expect(second.output()).not.toContain(login![2]);
    expect(second.output()).toContain(`Log in as:   ${login![1]} (password from the first start`);
    expect(second.output()).not.toContain("someone-else@vdb.test");
    const old = await api(second.url, "POST", "/auth/login", {
      body: { email: login![1], password: login![2] },
    });
    expect(old.status).toBe(401);
    const again = await api(second.url, "POST", "/auth/login", {
      body: { email: login![1], password: own },
    });
    const tenants = await api(second.url, "GET", "/tenants", { token: again.body.token });
    expect(tenants.body.items.map((t: { slug: string }) => t.slug)).toEqual(["kept"]);
    await second.stop();
  });
});

describe.runIf(testStoreKind() === "pglite")("starting on a port that is taken", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-port-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("exits 1 saying which port and how to choose another, without a stack trace, and makes no store", {
    timeout: 300_000,
  }, async () => {
    const port = await freePort();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const run = await runControlPlaneToExit(
        { DATA_DIR: dataDir, DATABASE_URL: "", PORT: String(port), HOST: "127.0.0.1" },
        240_000,
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(run.stderr).toContain(`PORT=${port + 1} npm start`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).not.toContain("running at");
      // Checked before the store opens: no half-made first start is left in DATA_DIR.
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});
