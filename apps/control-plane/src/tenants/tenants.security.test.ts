import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, memberWithSession, trpcAs } from "../testing/http";

let server: TestServer;
let tenantA: string;
let tenantB: string;
let adminOfA: string;
let viewerOfA: string;
let keyOfA: string;
beforeAll(async () => {
  server = await startTestServer();
  const token = server.adminToken;
  tenantA = (await api(server.url, "POST", "/tenants", { token, body: { slug: "tenant-a", name: "A" } })).body
    .id;
  tenantB = (await api(server.url, "POST", "/tenants", { token, body: { slug: "tenant-b", name: "B" } })).body
    .id;
  adminOfA = (await memberWithSession(server.url, token, tenantA, "admin-a@example.com", "admin")).token;
  viewerOfA = (await memberWithSession(server.url, token, tenantA, "viewer-a@example.com", "viewer")).token;
  keyOfA = (
    await api(server.url, "POST", `/tenants/${tenantA}/keys`, {
      token,
      body: { name: "k", scopes: ["admin"] },
    })
  ).body.secret;
});
afterAll(async () => server?.close());

describe("operator versus tenant admin", () => {
  it("a tenant admin sees only their tenant; the operator sees all", async () => {
    const asAdmin = await api(server.url, "GET", "/tenants", { token: adminOfA });
    expect(asAdmin.body.items.map((t: { id: string }) => t.id)).toEqual([tenantA]);
    const asOperator = await api(server.url, "GET", "/tenants", { token: server.adminToken });
    expect(asOperator.body.items.map((t: { id: string }) => t.id)).toEqual(
      expect.arrayContaining([tenantA, tenantB]),
    );
  });

  it("a tenant admin cannot create tenants, change plans or delete the tenant", async () => {
    const create = await api(server.url, "POST", "/tenants", {
      token: adminOfA,
      body: { slug: "sneaky", name: "x" },
    });
    expect(create.status).toBe(403);
    const plan = await api(server.url, "PATCH", `/tenants/${tenantA}`, {
      token: adminOfA,
      body: { plan: "enterprise" },
    });
    expect(plan.status).toBe(403);
    const both = await api(server.url, "PATCH", `/tenants/${tenantA}`, {
      token: adminOfA,
      body: { plan: "enterprise", name: "Renamed" },
    });
    expect(both.status).toBe(403);
    const remove = await api(server.url, "DELETE", `/tenants/${tenantA}`, { token: adminOfA });
    expect(remove.status).toBe(403);
    const tenant = await api(server.url, "GET", `/tenants/${tenantA}`, { token: adminOfA });
    expect(tenant.body).toMatchObject({ plan: "starter", name: "A" });
  });

  it("a tenant admin can rename their tenant but cannot touch another", async () => {
    const own = await api(server.url, "PATCH", `/tenants/${tenantA}`, {
      token: adminOfA,
      body: { name: "A" },
    });
    expect(own.status).toBe(200);
    for (const [method, path, body] of [
      ["GET", `/tenants/${tenantB}`, undefined],
      ["PATCH", `/tenants/${tenantB}`, { name: "pwned" }],
      ["DELETE", `/tenants/${tenantB}`, undefined],
    ] as const) {
      const res = await api(server.url, method, path, { token: adminOfA, body });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("FORBIDDEN");
    }
    expect(
      (await api(server.url, "GET", `/tenants/${tenantB}`, { token: server.adminToken })).body.name,
    ).toBe("B");
  });

  it("a viewer reads but cannot rename or manage keys", async () => {
    expect((await api(server.url, "GET", `/tenants/${tenantA}`, { token: viewerOfA })).status).toBe(200);
    expect(
      (await api(server.url, "PATCH", `/tenants/${tenantA}`, { token: viewerOfA, body: { name: "v" } }))
        .status,
    ).toBe(403);
    expect((await api(server.url, "GET", `/tenants/${tenantA}/keys`, { token: viewerOfA })).status).toBe(403);
  });

  it("a tenant's API key (even admin-scoped) cannot reach another tenant, and nothing changes", async () => {
    const read = await api(server.url, "GET", `/tenants/${tenantB}`, { token: keyOfA });
    expect(read.status).toBe(403);
    const rename = await api(server.url, "PATCH", `/tenants/${tenantB}`, {
      token: keyOfA,
      body: { name: "pwned" },
    });
    expect(rename.status).toBe(403);
    const mint = await api(server.url, "POST", `/tenants/${tenantB}/keys`, {
      token: keyOfA,
      body: { name: "x", scopes: ["read"] },
    });
    expect(mint.status).toBe(403);
    const list = await api(server.url, "GET", "/tenants", { token: keyOfA });
    expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([tenantA]);
    const keysOfB = await api(server.url, "GET", `/tenants/${tenantB}/keys`, { token: server.adminToken });
    expect(keysOfB.body.items).toEqual([]);
    expect(
      (await api(server.url, "GET", `/tenants/${tenantB}`, { token: server.adminToken })).body.name,
    ).toBe("B");
  });

  it("no credential → 401; a garbage credential → 401, not anonymous", async () => {
    const anonymous = await api(server.url, "GET", "/tenants");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("UNAUTHORIZED");
    for (const token of ["vdbk_garbage", "vdbs_garbage", "something-else"]) {
      const res = await api(server.url, "GET", "/plans", { token });
      expect(res.status).toBe(401);
    }
    const badHeader = await api(server.url, "GET", "/tenants", { headers: { authorization: "Basic abc" } });
    expect(badHeader.status).toBe(401);
  });
});

describe("rejected credentials over tRPC", () => {
  it("answer in tRPC's error shape with our code and a requestId", async () => {
    for (const token of ["vdbk_garbage", "vdbs_expired-or-unknown"]) {
      const failure = await trpcAs(server.url, token)
        .tenants.list.query({})
        .catch((error) => error);
      expect(failure.data).toMatchObject({ httpStatus: 401, appCode: "UNAUTHORIZED" });
      expect(failure.data.requestId).toMatch(/^req_/);
    }
  });
});
