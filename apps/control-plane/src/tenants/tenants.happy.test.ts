import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcAs } from "../testing/http";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.close());

describe("tenants over REST", () => {
  it("creates, reads, lists, renames, changes plan and deletes", async () => {
    const token = server.adminToken;
    const created = await api(server.url, "POST", "/tenants", {
      token,
      body: { slug: "acme-rest", name: "Acme" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ slug: "acme-rest", name: "Acme", plan: "starter" });
    expect(created.body.id).toMatch(/^ten_[0-9a-z]{20}$/);
    const id = created.body.id;

    expect((await api(server.url, "GET", `/tenants/${id}`, { token })).body.slug).toBe("acme-rest");

    const renamed = await api(server.url, "PATCH", `/tenants/${id}`, { token, body: { name: "Acme Inc" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe("Acme Inc");

    const upgraded = await api(server.url, "PATCH", `/tenants/${id}`, { token, body: { plan: "pro" } });
    expect(upgraded.body.plan).toBe("pro");
    expect((await api(server.url, "GET", `/tenants/${id}`, { token })).body.plan).toBe("pro");

    const deleted = await api(server.url, "DELETE", `/tenants/${id}`, { token });
    expect(deleted.body).toEqual({ deleted: true });
    const gone = await api(server.url, "GET", `/tenants/${id}`, { token });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe("NOT_FOUND");
  });

  it("accepts the seed's POST /provision", async () => {
    const res = await api(server.url, "POST", "/provision", {
      token: server.adminToken,
      body: { slug: "seed-style", name: "Seed", plan: "enterprise" },
    });
    expect(res.status).toBe(201);
    expect(res.body.plan).toBe("enterprise");
  });

  it("pages through tenants newest first without gaps or repeats, and searches", async () => {
    const token = server.adminToken;
    const slugs = Array.from({ length: 7 }, (_, i) => `page-${i}`);
    for (const slug of slugs)
      await api(server.url, "POST", "/tenants", { token, body: { slug, name: `Page ${slug}` } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/tenants?limit=3&search=page-${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await api(server.url, "GET", query, { token });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((tenant: { slug: string }) => tenant.slug));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...slugs].reverse());
  });
});

describe("tenants over tRPC", () => {
  it("creates, gets, lists, changes plan and deletes", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const tenant = await client.tenants.create.mutate({ slug: "acme-trpc", name: "Acme", plan: "pro" });
    expect(tenant.plan).toBe("pro");
    expect((await client.tenants.get.query({ tenantId: tenant.id })).name).toBe("Acme");
    const list = await client.tenants.list.query({ search: "acme-trpc" });
    expect(list.items.map((item) => item.id)).toEqual([tenant.id]);
    expect((await client.tenants.changePlan.mutate({ tenantId: tenant.id, plan: "enterprise" })).plan).toBe(
      "enterprise",
    );
    expect(await client.tenants.delete.mutate({ tenantId: tenant.id })).toEqual({ deleted: true });
    await expect(client.tenants.get.query({ tenantId: tenant.id })).rejects.toMatchObject({
      data: { appCode: "NOT_FOUND", httpStatus: 404 },
    });
  });

  it("records every mutation in the audit log, and keeps it after the tenant is gone", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const tenant = await client.tenants.create.mutate({ slug: "audited", name: "Audited" });
    await client.tenants.rename.mutate({ tenantId: tenant.id, name: "Audited 2" });
    await client.tenants.delete.mutate({ tenantId: tenant.id });
    const log = await client.audit.list.query({ tenantId: tenant.id });
    expect(log.items.map((entry) => entry.action)).toEqual([
      "tenant.delete",
      "tenant.rename",
      "tenant.create",
    ]);
    for (const entry of log.items) {
      expect(entry.actorType).toBe("user");
      expect(entry.requestId).toMatch(/^req_/);
      expect(entry.ip).toBeTruthy();
    }
  });
});
