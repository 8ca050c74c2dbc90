import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from "../testing";
import { api } from "../testing/http";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    env: { LOGIN_ATTEMPTS_PER_ACCOUNT: "3", LOGIN_ATTEMPTS_PER_ADDRESS: "8", TRUST_PROXY: "true" },
  });
}, 300_000);
afterAll(async () => server?.close());

const login = (email: string, password: string, address: string) =>
  api(server.url, "POST", "/auth/login", {
    body: { email, password },
    headers: { "x-forwarded-for": address },
  });

/** What a client sees of an answer, the seconds to wait left out. */
const seen = (res: { status: number; body: any; headers: Headers }) => ({
  status: res.status,
  code: res.body.error?.code ?? null,
  message: res.body.error?.message.replace(/\d+ s$/, "N s") ?? null,
  hasRetryAfter: Number(res.headers.get("retry-after")) > 0,
});

describe("login throttling", () => {
  it("after the account's failures, even the right password gets 429 with Retry-After, from any address; an unknown email behaves the same", async () => {
    const forAdmin = [];
    for (let i = 0; i < 3; i++) forAdmin.push(seen(await login(ADMIN_EMAIL, "wrong-password", "10.0.0.1")));
    const refused = await login(ADMIN_EMAIL, ADMIN_PASSWORD, "10.0.0.2");
    forAdmin.push(seen(refused));
    expect(forAdmin.map((r) => r.status)).toEqual([401, 401, 401, 429]);
    expect(forAdmin[3]).toMatchObject({ code: "RATE_LIMITED", hasRetryAfter: true });
    expect(refused.body.token).toBeUndefined();

    const forNobody = [];
    for (let i = 0; i < 3; i++)
      forNobody.push(seen(await login("nobody@vdb.test", "wrong-password", "10.0.0.3")));
    forNobody.push(seen(await login("nobody@vdb.test", ADMIN_PASSWORD, "10.0.0.4")));
    expect(forNobody).toEqual(forAdmin);
  });

  it("an address that failed too often is refused for every account, over REST and tRPC alike", async () => {
    const address = "10.0.0.9";
    for (let i = 0; i < 8; i++) {
      expect((await login(`someone-${i % 4}@vdb.test`, "wrong-password", address)).status).toBe(401);
    }
    const fresh = await login("fresh@vdb.test", "any-password", address);
    expect(seen(fresh)).toMatchObject({ status: 429, code: "RATE_LIMITED", hasRetryAfter: true });

    const viaTrpc = await fetch(`${server.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": address },
      body: JSON.stringify({ email: "fresh@vdb.test", password: "any-password" }),
    });
    expect(viaTrpc.status).toBe(429);
    expect(Number(viaTrpc.headers.get("retry-after"))).toBeGreaterThan(0);

    // Another address is not affected.
    expect((await login("fresh@vdb.test", "any-password", "10.0.0.10")).status).toBe(401);
  });
});
