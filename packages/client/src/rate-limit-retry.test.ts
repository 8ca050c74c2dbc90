import { startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVdbClient, isVdbError } from "./index";

let server: TestServer;
let tenantId: string;
let apiKey: string;

beforeAll(async () => {
  server = await startTestServer();
  const admin = createVdbClient({ url: server.url, sessionToken: server.adminToken });
  tenantId = (await admin.tenants.create.mutate({ slug: "rate", name: "Rate", plan: "starter" })).id;
  apiKey = (await admin.keys.create.mutate({ tenantId, name: "k", scopes: ["read"] })).secret;
}, 60_000);
afterAll(async () => server?.close());

describe("a key over its plan's rate (starter: 10/s, bursts of 20)", () => {
  it("the client waits as Retry-After says and every call succeeds", async () => {
    // What reached the wire: the refusals the client waited out are among them.
    const statuses: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      statuses.push(res.status);
      return res;
    };
    const vdb = createVdbClient({ url: server.url, apiKey }, { fetch: counting });
    for (let i = 0; i < 40; i++) expect((await vdb.tenants.get.query({ tenantId })).id).toBe(tenantId);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0); // it did have to wait
    expect(statuses.filter((status) => status === 200)).toHaveLength(40);
  }, 60_000);

  it("without retries the same burst is refused with RATE_LIMITED", async () => {
    const vdb = createVdbClient({ url: server.url, apiKey }, { retryRateLimited: false });
    const codes = new Set<string>();
    for (let i = 0; i < 40; i++) {
      try {
        await vdb.tenants.get.query({ tenantId });
      } catch (error) {
        if (isVdbError(error)) codes.add(error.data.appCode);
      }
    }
    expect([...codes]).toEqual(["RATE_LIMITED"]);
  }, 60_000);
});
