import type { AuditEntry } from "@vdb/schemas/audit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, memberWithSession, trpcAs } from "../testing/http";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.close());

describe("audit entries name people and keys", () => {
  it("gives the email of a user and the name of a key beside their ids, over REST and tRPC", async () => {
    const token = server.adminToken;
    const tenantId = (
      await api(server.url, "POST", "/tenants", { token, body: { slug: "named", name: "N" } })
    ).body.id;
    const deployKey = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
      token,
      body: { name: "ci deploy", scopes: ["admin"] },
    });
    // The key acts: it creates another key, so the entry has a key as actor and as target.
    const child = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
      token: deployKey.body.secret,
      body: { name: "search only", scopes: ["read"] },
    });
    expect(child.status).toBe(201);
    const person = await memberWithSession(server.url, token, tenantId, "dana@names.test", "viewer");

    const audit = await api<{ items: AuditEntry[] }>(server.url, "GET", `/audit?tenantId=${tenantId}`, {
      token,
    });
    const byAction = (action: string) => audit.body.items.filter((entry) => entry.action === action);
    const [byKey, byOperator] = byAction("api_key.create");
    expect(byKey).toMatchObject({
      actorType: "apiKey",
      actorId: deployKey.body.id,
      actorName: "ci deploy",
      targetId: child.body.id,
      targetName: "search only",
    });
    expect(byOperator).toMatchObject({ actorName: "admin@vdb.test", targetName: "ci deploy" });
    expect(byAction("member.set")[0]).toMatchObject({
      actorName: "admin@vdb.test",
      targetId: person.userId,
      targetName: "dana@names.test",
    });
    const viaTrpc = await trpcAs(server.url, token).audit.list.query({ tenantId, action: "member.set" });
    expect(viaTrpc.items[0]?.targetName).toBe("dana@names.test");
  });

  it("names the operator on platform entries and leaves ids that are neither users nor keys unnamed", async () => {
    const audit = await api<{ items: AuditEntry[] }>(server.url, "GET", "/audit?action=tenant.create", {
      token: server.adminToken,
    });
    for (const entry of audit.body.items) {
      expect(entry.actorName).toBe("admin@vdb.test");
      expect(entry.targetName).toBeNull(); // a tenant id: its name is in the tenants list, not here
    }
  });
});
