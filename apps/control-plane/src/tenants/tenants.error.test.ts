import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, tenants } from "../lib/db/schema";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcAs } from "../testing/http";

let server: TestServer;
let existingId: string;
beforeAll(async () => {
  server = await startTestServer({ env: { MAX_BODY_BYTES: "4096" } });
  const res = await api(server.url, "POST", "/tenants", {
    token: server.adminToken,
    body: { slug: "taken", name: "T" },
  });
  existingId = res.body.id;
});
afterAll(async () => server?.close());

async function rowCounts() {
  const [t] = await server.services.db.select({ n: count() }).from(tenants);
  const [a] = await server.services.db.select({ n: count() }).from(auditLog);
  return { tenants: t?.n, audit: a?.n };
}

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.message).toEqual(expect.any(String));
  expect(res.body.error.requestId).toMatch(/^req_/);
}

describe("bad input to tenant routes answers 4xx and writes nothing", () => {
  const badBodies: [string, unknown, string][] = [
    ["missing fields", {}, "slug"],
    ["wrong types", { slug: 42, name: ["x"] }, "slug"],
    ["oversized name", { slug: "fine-slug", name: "x".repeat(101) }, "name"],
    ["oversized slug", { slug: "a".repeat(41), name: "ok" }, "slug"],
    ["unknown plan", { slug: "fine-slug", name: "ok", plan: "gold" }, "plan"],
    ["bad slug characters", { slug: "Bad_Slug!", name: "ok" }, "slug"],
    ["unknown field", { slug: "fine-slug", name: "ok", owner: "me" }, "(body)"],
  ];
  for (const [label, body, field] of badBodies) {
    it(`POST /tenants: ${label}`, async () => {
      const before = await rowCounts();
      const res = await api(server.url, "POST", "/tenants", { token: server.adminToken, body });
      expectError(res, 400, "VALIDATION_FAILED");
      expect(res.body.error.issues.map((issue: { path: string }) => issue.path)).toContain(field);
      expect(await rowCounts()).toEqual(before);
    });
  }

  it("duplicate slug → 409 CONFLICT", async () => {
    const before = await rowCounts();
    const res = await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "taken", name: "x" },
    });
    expectError(res, 409, "CONFLICT");
    expect(res.body.error.message).toContain("taken");
    expect(await rowCounts()).toEqual(before);
  });

  it("malformed JSON → 400 BAD_REQUEST", async () => {
    const before = await rowCounts();
    const res = await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      rawBody: '{"slug": "x",',
    });
    expectError(res, 400, "BAD_REQUEST");
    expect(await rowCounts()).toEqual(before);
  });

  it("a body over the size limit → 413", async () => {
    const res = await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      rawBody: JSON.stringify({ slug: "big", name: "x".repeat(10_000) }),
    });
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("invalid ids in paths → 400 naming the expected shape", async () => {
    for (const path of [
      "/tenants/not-an-id",
      `/tenants/${existingId.replace("ten_", "key_")}`,
      "/tenants/ten_short",
    ]) {
      const res = await api(server.url, "GET", path, { token: server.adminToken });
      expectError(res, 400, "VALIDATION_FAILED");
      expect(res.body.error.message).toContain("tenant id");
    }
  });

  it("PATCH with nothing to change, or an unknown plan, changes nothing", async () => {
    const before = await rowCounts();
    expectError(
      await api(server.url, "PATCH", `/tenants/${existingId}`, { token: server.adminToken, body: {} }),
      400,
      "VALIDATION_FAILED",
    );
    expectError(
      await api(server.url, "PATCH", `/tenants/${existingId}`, {
        token: server.adminToken,
        body: { plan: "gold", name: "New" },
      }),
      400,
      "VALIDATION_FAILED",
    );
    const tenant = await api(server.url, "GET", `/tenants/${existingId}`, { token: server.adminToken });
    expect(tenant.body).toMatchObject({ name: "T", plan: "starter" });
    expect(await rowCounts()).toEqual(before);
  });

  it("a bad pagination cursor or limit → 400", async () => {
    expectError(
      await api(server.url, "GET", "/tenants?cursor=garbage", { token: server.adminToken }),
      400,
      "BAD_REQUEST",
    );
    expectError(
      await api(server.url, "GET", "/tenants?limit=1000", { token: server.adminToken }),
      400,
      "VALIDATION_FAILED",
    );
    expectError(
      await api(server.url, "GET", "/tenants?limit=abc", { token: server.adminToken }),
      400,
      "VALIDATION_FAILED",
    );
  });

  it("unknown routes → 404 JSON", async () => {
    expectError(await api(server.url, "GET", "/nope", { token: server.adminToken }), 404, "NOT_FOUND");
  });

  it("tRPC: bad input is BAD_REQUEST with appCode VALIDATION_FAILED and a requestId", async () => {
    const before = await rowCounts();
    const client = trpcAs(server.url, server.adminToken);
    // Sent as a caller without types would: the plan is deliberately not one of the enum's values.
    const wrong = { slug: "ok-slug", name: "x", plan: "gold" } as unknown as { slug: string; name: string };
    const failure = await client.tenants.create.mutate(wrong).catch((e) => e);
    expect(failure.data).toMatchObject({ httpStatus: 400, appCode: "VALIDATION_FAILED" });
    expect(failure.data.requestId).toMatch(/^req_/);
    expect(failure.data.issues[0].path).toBe("plan");
    expect(await rowCounts()).toEqual(before);
  });

  it("tRPC: malformed JSON is a 400 with our error code", async () => {
    const response = await fetch(`${server.url}/trpc/tenants.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.error.data.appCode).toBe("BAD_REQUEST");
    expect(body.error.requestId).toMatch(/^req_/);
  });
});
