import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { launchUntilRunning, tenantWithKey } from "../testing/http";

// A pool that runs one request of a tenant at a time and queues none: concurrent searches meet
// the instance's own refusal (429, Retry-After: 1), which every surface must pass on unchanged.
// The local runtime's instance processes inherit this process's environment.
const POOL_ENV = { POOL_TENANT_CONCURRENCY: "1", POOL_TENANT_QUEUE: "0" };
const NAMESPACE = "/api/v2/tenants/default_tenant/databases/default_database";
/** The instance's refusal, told from the control plane's own rate limit by its message. */
const isPoolRefusal = (status: number, body: string) => status === 429 && body.includes("shared pool");

let server: TestServer;
let key: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const [name, value] of Object.entries(POOL_ENV)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  server = await startTestServer();
  const tenant = await tenantWithKey(server.url, server.adminToken, "refused", "free");
  key = tenant.key;
  await launchUntilRunning(server.url, server.adminToken, tenant.tenantId);
  const embedded = await fetch(`${server.url}/api/v1/embed`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ ids: ["r1"], documents: ["A record to search for"] }),
  });
  expect(embedded.status).toBe(200);
}, 300_000);

afterAll(async () => {
  await server?.close();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/**
 * Bursts of concurrent calls (a second apart, within the plan's request rate) until the pool
 * refuses one; the refusals' Retry-After headers, and how many calls succeeded meanwhile.
 */
async function untilThePoolRefuses(send: () => Promise<Response>) {
  for (let round = 0; round < 30; round++) {
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await send();
        return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.text() };
      }),
    );
    const refused = answers.filter(({ status, body }) => isPoolRefusal(status, body));
    const unexpected = answers.filter(({ status, body }) => status !== 200 && !isPoolRefusal(status, body));
    expect(unexpected.filter(({ status }) => status !== 429)).toEqual([]);
    if (refused.length > 0) return { retryAfters: refused.map(({ retryAfter }) => retryAfter), answers };
    await new Promise((resolve) => setTimeout(resolve, 1_100));
  }
  throw new Error("30 bursts of 6 concurrent calls and the pool never refused one");
}

describe("an instance's refusal reaches the caller with its Retry-After", () => {
  it("REST: a search the pool refuses is a 429 with Retry-After: 1, as the instance said", async () => {
    const { retryAfters, answers } = await untilThePoolRefuses(() =>
      fetch(`${server.url}/api/v1/search`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ query: "record", nResults: 1 }),
      }),
    );
    expect(retryAfters.every((value) => value === "1")).toBe(true);
    const refusal = JSON.parse(answers.find(({ status, body }) => isPoolRefusal(status, body))!.body);
    expect(refusal.error).toMatchObject({ code: "RATE_LIMITED" });
  });

  it("Chroma gateway: a query the pool refuses keeps its Retry-After too", async () => {
    const headers = { "x-chroma-token": key, "content-type": "application/json" };
    const collection = await fetch(`${server.url}${NAMESPACE}/collections/default`, { headers });
    expect(collection.status).toBe(200);
    const { id } = (await collection.json()) as { id: string };
    const dimension = server.config.INSTANCE_DIMENSION;
    const { retryAfters } = await untilThePoolRefuses(() =>
      fetch(`${server.url}${NAMESPACE}/collections/${id}/query`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          query_embeddings: [Array.from({ length: dimension }, () => 0.5)],
          n_results: 1,
        }),
      }),
    );
    expect(retryAfters.every((value) => value === "1")).toBe(true);
  });
});
