import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, memberWithSession } from "../testing/http";
import { recordUsage } from "./record-usage";
import { usageTestApp } from "./test-app";

let server: TestServer;
let usage: ReturnType<typeof usageTestApp>;
let tenantA: string;
let tenantB: string;
let adminOfA: string;
let viewerOfA: string;
let readKeyOfA: string;
let keyOfB: string;

beforeAll(async () => {
  server = await startTestServer();
  usage = usageTestApp(server.services);
  const token = server.adminToken;
  tenantA = (await api(server.url, "POST", "/tenants", { token, body: { slug: "sec-a", name: "A" } })).body
    .id;
  tenantB = (await api(server.url, "POST", "/tenants", { token, body: { slug: "sec-b", name: "B" } })).body
    .id;
  adminOfA = (await memberWithSession(server.url, token, tenantA, "usage-admin@example.com", "admin")).token;
  viewerOfA = (await memberWithSession(server.url, token, tenantA, "usage-viewer@example.com", "viewer"))
    .token;
  const newKey = async (tenantId: string, scopes: string[]) =>
    (await api(server.url, "POST", `/tenants/${tenantId}/keys`, { token, body: { name: "k", scopes } })).body
      .secret as string;
  readKeyOfA = await newKey(tenantA, ["read"]);
  keyOfB = await newKey(tenantB, ["admin"]);
  await recordUsage(server.services.db, [
    { tenantId: tenantA, kind: "search", quantity: 7 },
    { tenantId: tenantB, kind: "search", quantity: 9 },
  ]);
});
afterAll(async () => server?.close());

describe("who may read a tenant's usage", () => {
  it("its admins, viewers and read keys, and operators", async () => {
    for (const token of [adminOfA, viewerOfA, readKeyOfA, server.adminToken]) {
      const report = await usage.get(`/tenants/${tenantA}/usage`, token);
      expect(report.status).toBe(200);
      expect(report.body.totals.search).toBe(7);
    }
  });

  it("not another tenant's key or member, on any route", async () => {
    for (const [path, token] of [
      [`/tenants/${tenantA}/usage`, keyOfB],
      [`/admin/usage?tenantId=${tenantA}`, keyOfB],
      [`/tenants/${tenantB}/usage`, adminOfA],
      [`/tenants/${tenantB}/usage`, readKeyOfA],
      [`/admin/usage?tenantId=${tenantB}`, viewerOfA],
    ] as const) {
      const refused = await usage.get(path, token);
      expect(refused.status, path).toBe(403);
      expect(refused.body.error.code).toBe("FORBIDDEN");
      expect(JSON.stringify(refused.body)).not.toContain('"totals"');
    }
    const client = await usage.trpcAs(keyOfB);
    await expect(client.usage.get({ tenantId: tenantA })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("nobody without a credential", async () => {
    const anonymous = await usage.get(`/tenants/${tenantA}/usage`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("UNAUTHORIZED");
  });

  it("the seed route gives a key its own tenant when none is named", async () => {
    const own = await usage.get("/admin/usage", keyOfB);
    expect(own.body).toMatchObject({ tenantId: tenantB, totals: { search: 9 } });
  });
});

describe("the cross-tenant summary", () => {
  it("is for operators only", async () => {
    for (const token of [adminOfA, viewerOfA, readKeyOfA, keyOfB]) {
      const refused = await usage.get("/admin/usage/summary", token);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("FORBIDDEN");
    }
    const operator = await usage.get("/admin/usage/summary?kinds=search", server.adminToken);
    expect(operator.status).toBe(200);
    expect(operator.body.kinds[0]).toMatchObject({ kind: "search", total: 16 });
  });
});
