import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, launchUntilRunning } from "../testing/http";

// The three ways around a per-key limit an audit found (starter plan: 10 requests per second,
// bursts of 20), each tried with a burst of 60 requests at once: all must meet 429s with a
// Retry-After. No timing is asserted: 60 requests cannot all be served within one burst.

const BURST = 60;
let server: TestServer;
let tenantId: string;
let instanceUrl: string;

beforeAll(async () => {
  server = await startTestServer();
  tenantId = (
    await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "limited", name: "Limited", plan: "starter" },
    })
  ).body.id;
  instanceUrl = await launchUntilRunning(server.url, server.adminToken, tenantId);
}, 300_000);
afterAll(async () => server?.close());

/** Statuses of `count` requests sent at once, and whether every 429 had a Retry-After. */
async function burst(count: number, send: (i: number) => Promise<Response>) {
  const responses = await Promise.all(Array.from({ length: count }, (_, i) => send(i)));
  const limited = responses.filter((res) => res.status === 429);
  const bodies = await Promise.all(limited.map((res) => res.json() as Promise<any>));
  return {
    ok: responses.filter((res) => res.status === 200).length,
    limited: limited.length,
    everyLimitedHasRetryAfter: limited.every((res) => Number(res.headers.get("retry-after")) >= 1),
    codes: [...new Set(bodies.map((body) => body.error?.code ?? body.error?.data?.appCode))],
    messages: bodies.map((body) => body.error?.message ?? ""),
  };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("limits per tenant, enforced where the data is served", () => {
  it("a long token sent straight to the instance meets the tenant's limit there", async () => {
    const key = (
      await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
        token: server.adminToken,
        body: { name: "direct", scopes: ["read"] },
      })
    ).body;
    const token = (
      await api(server.url, "POST", "/generate-token", {
        token: key.secret,
        body: { tenantId, ttlSeconds: 86_400 },
      })
    ).body.token;
    const result = await burst(BURST, () =>
      fetch(`${instanceUrl}/collections`, { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(result.ok).toBeGreaterThan(0);
    expect(result.limited).toBeGreaterThan(0);
    expect(result.everyLimitedHasRetryAfter).toBe(true);
    expect(result.codes).toEqual(["RATE_LIMITED"]);
    await api(server.url, "DELETE", `/tenants/${tenantId}/keys/${key.id}`, { token: server.adminToken });
  });

  it("many keys share their tenant's limit, and a plan caps how many keys a tenant holds", async () => {
    await wait(2_500); // the tenant's bucket refills after the previous case
    const listed = await api(server.url, "GET", `/tenants/${tenantId}/keys`, { token: server.adminToken });
    const live = listed.body.items.filter((key: { revokedAt: string | null }) => !key.revokedAt).length;
    const keys: string[] = [];
    for (let i = live; i < 10; i++) {
      const created = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
        token: server.adminToken,
        body: { name: `many-${i}`, scopes: ["read"] },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      keys.push(created.body.secret);
    }
    const eleventh = await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
      token: server.adminToken,
      body: { name: "one-too-many", scopes: ["read"] },
    });
    expect(eleventh.status).toBe(403);
    expect(eleventh.body.error).toMatchObject({
      code: "QUOTA_EXCEEDED",
      message: expect.stringMatching(/10 API keys/),
    });

    const result = await burst(BURST, (i) =>
      fetch(`${server.url}/api/v1/plans`, { headers: { authorization: `Bearer ${keys[i % keys.length]}` } }),
    );
    expect(result.limited).toBeGreaterThan(0);
    expect(result.everyLimitedHasRetryAfter).toBe(true);
    expect(result.messages.some((message) => message.startsWith("This tenant"))).toBe(true);

    // tRPC's 429 carries Retry-After too.
    await wait(2_500);
    const viaTrpc = await burst(BURST, (i) =>
      fetch(`${server.url}/trpc/plans`, { headers: { authorization: `Bearer ${keys[i % keys.length]}` } }),
    );
    expect(viaTrpc.limited).toBeGreaterThan(0);
    expect(viaTrpc.everyLimitedHasRetryAfter).toBe(true);
  });

  it("a console session's data-plane calls count against the tenant's limit", async () => {
    await wait(2_500);
    const result = await burst(BURST, () =>
      fetch(`${server.url}/api/v1/search?tenantId=${tenantId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ queryEmbedding: Array(64).fill(0.1), nResults: 1 }),
      }),
    );
    expect(result.limited).toBeGreaterThan(0);
    expect(result.everyLimitedHasRetryAfter).toBe(true);
    expect(result.messages.some((message) => message.startsWith("This tenant"))).toBe(true);
  });
});
