import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testStoreKind } from "../../testing";
import { api } from "../../testing/http";
import { runControlPlaneToExit, startControlPlaneProcess } from "../../testing/process";

/** Every file and folder under `dir` with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const info = statSync(path.join(dir, entry));
    seen[entry] = `${info.isDirectory() ? "dir" : info.size}@${info.mtimeMs}`;
  }
  return seen;
}

// The lock guards the embedded store only: PostgreSQL is made for several processes.
describe.runIf(testStoreKind() === "pglite")("one process per data directory (embedded store)", () => {
  // Made when the tests run, not when they are collected (on PostgreSQL, where they are skipped).
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), "vdb-lock-e2e-"));
  });
  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("a second control plane exits non-zero, says who holds the directory, and writes nothing; after a kill -9 of the holder the next one starts", async () => {
    const env = { DATA_DIR: dataDir, DATABASE_URL: "" };
    const first = await startControlPlaneProcess(env, 240_000);
    const login = /Log in as:\s+(\S+) \/ (\S+)/.exec(first.output());
    const session = await api(first.url, "POST", "/auth/login", {
      body: { email: login![1], password: login![2] },
    });
    // The printed password must be replaced before anything else.
    const credentials = { email: login![1], password: "the-operators-own-password" };
    const changed = await api(first.url, "POST", "/auth/password", {
      token: session.body.token,
      body: { currentPassword: login![2], newPassword: credentials.password },
    });
    expect(changed.status).toBe(200);
    const created = await api(first.url, "POST", "/tenants", {
      token: session.body.token,
      body: { slug: "before-the-second", name: "B" },
    });
    expect(created.status).toBe(201);

    // Paused, the holder is alive but writes nothing: whatever changes now is the second's doing.
    first.child.kill("SIGSTOP");
    try {
      const before = snapshot(dataDir);
      const second = await runControlPlaneToExit(env, 240_000);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain(`The data directory ${dataDir} is in use`);
      expect(second.stderr).toContain(`pid ${first.child.pid}`);
      expect(second.stderr).toContain("DATABASE_URL=postgres://");
      expect(second.stdout).not.toContain("running at");
      expect(snapshot(dataDir)).toEqual(before);
    } finally {
      first.child.kill("SIGCONT");
    }

    await first.stop("SIGKILL");
    const third = await startControlPlaneProcess(env, 240_000);
    try {
      const again = await api(third.url, "POST", "/auth/login", { body: credentials });
      const tenants = await api(third.url, "GET", "/tenants", { token: again.body.token });
      expect(tenants.body.items.map((tenant: { slug: string }) => tenant.slug)).toEqual([
        "before-the-second",
      ]);
    } finally {
      await third.stop();
    }
  }, 900_000); // three control-plane starts on a machine shared by many test runs
});
