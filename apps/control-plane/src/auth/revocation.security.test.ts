import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestDatabase, dropTestDatabase, testStoreKind } from "../testing";
import { api, until } from "../testing/http";
import { type ControlPlaneProcess, startControlPlaneProcess } from "../testing/process";

// Two processes can share only a real PostgreSQL; PGlite is one process's embedded store.
describe.runIf(testStoreKind() === "postgres")("revocation across two control-plane processes", () => {
  let databaseUrl: string;
  let first: ControlPlaneProcess;
  let second: ControlPlaneProcess;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase("postgres");
    const env = {
      DATABASE_URL: databaseUrl,
      VDB_ADMIN_EMAIL: ADMIN_EMAIL,
      VDB_ADMIN_PASSWORD: ADMIN_PASSWORD,
      // A key verified once is trusted from memory for ten minutes (the most allowed), longer than
      // this test waits: only the invalidation poll (AUTH_POLL_INTERVAL_MS, 1 s) can tell the
      // second process that it was revoked.
      API_KEY_CACHE_TTL_SECONDS: "600",
    };
    first = await startControlPlaneProcess(env);
    second = await startControlPlaneProcess(env);
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  it("a key revoked on one process stops working on the other at its next invalidation poll, its cache notwithstanding", async () => {
    const login = await api(first.url, "POST", "/auth/login", {
      body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    const token = login.body.token;
    const tenant = await api(first.url, "POST", "/tenants", {
      token,
      body: { slug: "shared", name: "Shared" },
    });
    const key = await api(first.url, "POST", `/tenants/${tenant.body.id}/keys`, {
      token,
      body: { name: "k", scopes: ["read"] },
    });
    // Warm the second process's cache: from here on it answers from memory.
    expect(
      (await api(second.url, "GET", `/tenants/${tenant.body.id}`, { token: key.body.secret })).status,
    ).toBe(200);

    await api(first.url, "DELETE", `/tenants/${tenant.body.id}/keys/${key.body.id}`, { token });
    expect((await api(first.url, "GET", "/auth/me", { token: key.body.secret })).status).toBe(401);

    const revoked = await until(
      "the second process refuses the revoked key",
      async () => (await api(second.url, "GET", "/auth/me", { token: key.body.secret })).status,
      (status) => status !== 200,
      { everyMs: 100 },
    );
    expect(revoked).toBe(401);
  });
});
