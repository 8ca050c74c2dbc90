import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { testStoreKind } from "./testing";
import { api } from "./testing/http";
import { startControlPlaneProcess } from "./testing/process";

// The README's run command on embedded defaults: PGlite files under DATA_DIR.
describe.runIf(testStoreKind() === "pglite")("starting the control plane on embedded defaults", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-start-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // How fast it starts is bench/provision's to measure: a busy CI machine failed a 10 s bound here.
  it("prints its URL and a login, and that login works; a restart keeps the data", {
    timeout: 300_000,
  }, async () => {
    const first = await startControlPlaneProcess({ DATA_DIR: dataDir, DATABASE_URL: "" }, 120_000);
    const printed = first.output();
    expect(printed).toContain(`running at ${first.url}`);
    expect(printed).toContain(`${first.url}/api/v1/docs`);
    const login = /Log in as:\s+(\S+) \/ (\S+)/.exec(printed);
    expect(login).not.toBeNull();
    const session = await api(first.url, "POST", "/auth/login", {
      body: { email: login![1], password: login![2] },
    });
    expect(session.status).toBe(200);
    const tenant = await api(first.url, "POST", "/tenants", {
      token: session.body.token,
      body: { slug: "kept", name: "K" },
    });
    expect(tenant.status).toBe(201);
    await first.stop();

    const second = await startControlPlaneProcess({ DATA_DIR: dataDir, DATABASE_URL: "" }, 120_000);
    expect(second.output()).not.toContain(login![2]);
    const again = await api(second.url, "POST", "/auth/login", {
      body: { email: login![1], password: login![2] },
    });
    const tenants = await api(second.url, "GET", "/tenants", { token: again.body.token });
    expect(tenants.body.items.map((t: { slug: string }) => t.slug)).toEqual(["kept"]);
    await second.stop();
  });
});
