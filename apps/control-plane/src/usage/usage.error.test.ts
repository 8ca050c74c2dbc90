import { newId } from "@vdb/schemas/ids";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api } from "../testing/http";
import { usageTestApp } from "./test-app";

let server: TestServer;
let usage: ReturnType<typeof usageTestApp>;
let tenantId: string;

beforeAll(async () => {
  server = await startTestServer();
  usage = usageTestApp(server.services);
  tenantId = (
    await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "usage-err", name: "E" },
    })
  ).body.id;
});
afterAll(async () => server?.close());

describe("usage windows", () => {
  it("refuses from after to", async () => {
    const reversed = await usage.get(
      `/tenants/${tenantId}/usage?from=2025-03-05&to=2025-03-01`,
      server.adminToken,
    );
    expect(reversed.status).toBe(400);
    expect(reversed.body.error).toMatchObject({
      code: "VALIDATION_FAILED",
      issues: [{ path: "from", message: "must not be after to (2025-03-01)" }],
    });
    expect(reversed.body.error.requestId).toMatch(/^req_/);
  });

  it("allows 366 days and refuses 367", async () => {
    const leapYear = await usage.get(
      `/tenants/${tenantId}/usage?from=2024-01-01&to=2024-12-31`,
      server.adminToken,
    );
    expect(leapYear.status).toBe(200);
    const tooLong = await usage.get(
      `/tenants/${tenantId}/usage?from=2024-01-01&to=2025-01-01`,
      server.adminToken,
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe("VALIDATION_FAILED");
    expect(tooLong.body.error.message).toContain("spans 367 days; at most 366");
    // With `to` left to default (today), a `from` more than a year back is as long.
    const sinceLongAgo = await usage.get(`/tenants/${tenantId}/usage?from=2000-01-01`, server.adminToken);
    expect(sinceLongAgo.body.error.code).toBe("VALIDATION_FAILED");
    const summary = await usage.get("/admin/usage/summary?from=2024-01-01&to=2025-06-01", server.adminToken);
    expect(summary.body.error.code).toBe("VALIDATION_FAILED");
  });

  it("refuses malformed dates and unknown kinds", async () => {
    for (const query of [
      "from=yesterday",
      "to=2025-02-30",
      "from=2025-03-01T00:00:00Z",
      "kinds=search,bogus",
    ]) {
      const refused = await usage.get(`/tenants/${tenantId}/usage?${query}`, server.adminToken);
      expect(refused.status, query).toBe(400);
      expect(refused.body.error.code, query).toBe("VALIDATION_FAILED");
    }
  });

  it("gives tRPC callers the same errors", async () => {
    const client = await usage.trpcAs(server.adminToken);
    const error = await client.usage
      .get({ tenantId, from: "2025-03-05", to: "2025-03-01" })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "BAD_REQUEST", cause: { code: "VALIDATION_FAILED" } });
  });
});

describe("missing tenants", () => {
  it("answers 404 to an operator asking about a tenant that does not exist", async () => {
    const missing = await usage.get(`/tenants/${newId("tenant")}/usage`, server.adminToken);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
  });

  it("asks a user to name the tenant on the seed route", async () => {
    const unnamed = await usage.get("/admin/usage", server.adminToken);
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error.code).toBe("BAD_REQUEST");
  });
});
