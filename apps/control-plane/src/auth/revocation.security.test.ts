import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestDatabase, dropTestDatabase, testStoreKind } from "../testing";
import { api } from "../testing/http";
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
    };
    first = await startControlPlaneProcess(env);
    second = await startControlPlaneProcess(env);
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  it("a key revoked on one process stops working on the other within a few seconds", async () => {
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

    const revokedAt = Date.now();
    await api(first.url, "DELETE", `/tenants/${tenant.body.id}/keys/${key.body.id}`, { token });
    expect((await api(first.url, "GET", "/auth/me", { token: key.body.secret })).status).toBe(401);

    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 5_000) {
      status = (await api(second.url, "GET", "/auth/me", { token: key.body.secret })).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
  });
});
