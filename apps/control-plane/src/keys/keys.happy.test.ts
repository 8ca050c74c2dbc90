import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "../lib/db/schema";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcAs } from "../testing/http";

let server: TestServer;
let tenantId: string;
// The control plane's clock: moved past a key's expiry instead of waiting for it.
let offsetMs = 0;
beforeAll(async () => {
  server = await startTestServer({ now: () => Date.now() + offsetMs });
  tenantId = (
    await api(server.url, "POST", "/tenants", { token: server.adminToken, body: { slug: "keys", name: "K" } })
  ).body.id;
});
afterAll(async () => server?.close());

describe("API key lifecycle", () => {
  it("create → use → revoke → rejected, with the secret shown once and stored only as a hash", async () => {
    const created = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
      token: server.adminToken,
      body: { name: "ci", scopes: ["read", "write"] },
    });
    expect(created.status).toBe(201);
    const { id, secret } = created.body;
    expect(secret).toMatch(/^vdbk_/);
    expect(created.body.start).toBe(secret.slice(0, 9));

    const [row] = await server.services.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row?.keyHash).toMatch(/^[0-9a-f]{64}$/);

    const listed = await api(server.url, "GET", `/tenants/${tenantId}/keys`, { token: server.adminToken });
    expect(listed.body.items.map((key: { id: string }) => key.id)).toContain(id);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const used = await api(server.url, "GET", `/tenants/${tenantId}`, { token: secret });
    expect(used.status).toBe(200);
    const me = await api(server.url, "GET", "/auth/me", { token: secret });
    expect(me.body).toEqual({ kind: "apiKey", keyId: id, tenantId, scopes: ["read", "write"] });

    const revoked = await api(server.url, "DELETE", `/tenants/${tenantId}/keys/${id}`, {
      token: server.adminToken,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();

    const rejected = await api(server.url, "GET", `/tenants/${tenantId}`, { token: secret });
    expect(rejected.status).toBe(401);
    expect(rejected.body.error).toMatchObject({ code: "UNAUTHORIZED", message: "API key has been revoked" });

    const active = await api(server.url, "GET", `/tenants/${tenantId}/keys`, { token: server.adminToken });
    expect(active.body.items.map((key: { id: string }) => key.id)).not.toContain(id);
    const all = await api(server.url, "GET", `/tenants/${tenantId}/keys?includeRevoked=true`, {
      token: server.adminToken,
    });
    expect(all.body.items.map((key: { id: string }) => key.id)).toContain(id);
  });

  it("records last-used time without a write per request", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const key = await client.keys.create.mutate({ tenantId, name: "used", scopes: ["read"] });
    expect(key.lastUsedAt).toBeNull();
    await api(server.url, "GET", "/auth/me", { token: key.secret });
    await server.services.apiKeys.flushLastUsed();
    const listed = await client.keys.list.query({ tenantId });
    const after = listed.items.find((item) => item.id === key.id);
    expect(after?.lastUsedAt).not.toBeNull();
  });

  it("an expired key stops working", async () => {
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const key = await trpcAs(server.url, server.adminToken).keys.create.mutate({
      tenantId,
      name: "short",
      scopes: ["read"],
      expiresAt,
    });
    expect((await api(server.url, "GET", "/auth/me", { token: key.secret })).status).toBe(200);
    offsetMs = 1_700;
    try {
      const res = await api(server.url, "GET", "/auth/me", { token: key.secret });
      expect(res.status).toBe(401);
      expect(res.body.error.message).toBe("API key has expired");
    } finally {
      offsetMs = 0;
    }
  });

  it("scopes: a read key cannot write or administer; an admin key can mint narrower keys only", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const readKey = await client.keys.create.mutate({ tenantId, name: "reader", scopes: ["read"] });
    const asReader = trpcAs(server.url, readKey.secret);
    expect((await asReader.tenants.get.query({ tenantId })).id).toBe(tenantId);
    await expect(asReader.tokens.generate.mutate({ tenantId, scopes: ["write"] })).rejects.toMatchObject({
      data: { appCode: "FORBIDDEN", httpStatus: 403 },
    });
    await expect(
      asReader.keys.create.mutate({ tenantId, name: "x", scopes: ["read"] }),
    ).rejects.toMatchObject({
      data: { appCode: "FORBIDDEN" },
    });
    await expect(asReader.tenants.rename.mutate({ tenantId, name: "renamed" })).rejects.toMatchObject({
      data: { appCode: "FORBIDDEN" },
    });
    expect((await client.tenants.get.query({ tenantId })).name).toBe("K");

    const writeKey = await client.keys.create.mutate({ tenantId, name: "writer", scopes: ["write"] });
    const writeToken = await trpcAs(server.url, writeKey.secret).tokens.generate.mutate({
      tenantId,
      scopes: ["write"],
    });
    expect(writeToken.scopes).toEqual(["write"]);

    const adminKey = await client.keys.create.mutate({ tenantId, name: "admin", scopes: ["read", "write"] });
    await expect(
      trpcAs(server.url, adminKey.secret).keys.create.mutate({ tenantId, name: "x", scopes: ["read"] }),
    ).rejects.toMatchObject({ data: { appCode: "FORBIDDEN" } });
    const realAdmin = await client.keys.create.mutate({ tenantId, name: "real-admin", scopes: ["admin"] });
    const minted = await trpcAs(server.url, realAdmin.secret).keys.create.mutate({
      tenantId,
      name: "m",
      scopes: ["read"],
    });
    expect(minted.scopes).toEqual(["read"]);
  });

  it("bad key input is rejected and creates nothing", async () => {
    const before = (
      await api(server.url, "GET", `/tenants/${tenantId}/keys?limit=100`, { token: server.adminToken })
    ).body.items.length;
    for (const body of [
      { name: "x", scopes: [] },
      { name: "x", scopes: ["root"] },
      { name: "x", scopes: ["read", "read"] },
      { name: "", scopes: ["read"] },
      { name: "x", scopes: ["read"], expiresAt: "2001-01-01T00:00:00Z" },
      { name: "x", scopes: ["read"], expiresAt: "tomorrow" },
    ]) {
      const res = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
        token: server.adminToken,
        body,
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
    }
    const missingTenant = await api(server.url, "POST", `/tenants/ten_${"0".repeat(20)}/keys`, {
      token: server.adminToken,
      body: { name: "x", scopes: ["read"] },
    });
    expect(missingTenant.status).toBe(404);
    const unknownKey = await api(server.url, "DELETE", `/tenants/${tenantId}/keys/key_${"0".repeat(20)}`, {
      token: server.adminToken,
    });
    expect(unknownKey.status).toBe(404);
    const after = (
      await api(server.url, "GET", `/tenants/${tenantId}/keys?limit=100`, { token: server.adminToken })
    ).body.items.length;
    expect(after).toBe(before);
  });

  it("deleting a tenant kills its keys at once", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const doomed = await client.tenants.create.mutate({ slug: "doomed", name: "D" });
    const key = await client.keys.create.mutate({ tenantId: doomed.id, name: "k", scopes: ["admin"] });
    expect((await api(server.url, "GET", "/auth/me", { token: key.secret })).status).toBe(200);
    await client.tenants.delete.mutate({ tenantId: doomed.id });
    expect((await api(server.url, "GET", "/auth/me", { token: key.secret })).status).toBe(401);
    const rows = await server.services.db.select().from(apiKeys).where(eq(apiKeys.tenantId, doomed.id));
    expect(rows).toEqual([]);
  });

  it("a key is rate limited to its plan (starter: 10/s, bursts of 20), with Retry-After", async () => {
    // A tenant of its own: a key's requests also spend its tenant's bucket, which the tests above drew on.
    const client = trpcAs(server.url, server.adminToken);
    const burstTenant = await client.tenants.create.mutate({ slug: "burst", name: "Burst" });
    const key = await client.keys.create.mutate({
      tenantId: burstTenant.id,
      name: "burst",
      scopes: ["read"],
    });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 40; i++) {
      const res = await api(server.url, "GET", "/auth/me", { token: key.secret });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get("retry-after");
        expect(res.body.error.code).toBe("RATE_LIMITED");
      }
    }
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(20);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});
