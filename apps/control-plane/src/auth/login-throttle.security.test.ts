import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginFailures } from "../lib/db/schema";
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createTestDatabase,
  dropTestDatabase,
  startTestServer,
  type TestServer,
  testStoreKind,
} from "../testing";
import { api, trpcAs, userWithSession } from "../testing/http";

// Three failures per account and eight per address in 900 s (the default window): one attempt
// comes back every 300 s for an account, every 112.5 s for an address.
const THROTTLE_ENV = {
  LOGIN_ATTEMPTS_PER_ACCOUNT: "3",
  LOGIN_ATTEMPTS_PER_ADDRESS: "8",
  TRUST_PROXY: "true",
};

/** The services' clock, moved forward by tests instead of waiting. */
let clockOffsetMs = 0;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: THROTTLE_ENV, now: () => Date.now() + clockOffsetMs });
}, 300_000);
afterAll(async () => server?.close());

const login = (email: string, password: string, address: string, on: TestServer = server) =>
  api(on.url, "POST", "/auth/login", {
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

describe("login budgets over time and across control planes", () => {
  it("a spent budget gives back one attempt per window ÷ budget, not all at once", async () => {
    const email = "refill@vdb.test";
    for (let i = 0; i < 3; i++) expect((await login(email, "wrong-password", "10.1.0.1")).status).toBe(401);
    const refused = await login(email, ADMIN_PASSWORD, "10.1.0.2");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(200);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(300);

    clockOffsetMs += 301_000;
    expect((await login(email, "wrong-password", "10.1.0.3")).status).toBe(401);
    expect((await login(email, "wrong-password", "10.1.0.4")).status).toBe(429);
  });

  it("an operator's password reset refills the account's budget (not the address's)", async () => {
    const email = "locked-out@vdb.test";
    const { userId } = await userWithSession(server.url, server.adminToken, email);
    for (let i = 0; i < 3; i++) expect((await login(email, "wrong-password", "10.4.0.1")).status).toBe(401);
    expect((await login(email, "wrong-password", "10.4.0.2")).status).toBe(429);

    const { temporaryPassword } = await trpcAs(server.url, server.adminToken).users.resetPassword.mutate({
      userId,
    });
    const back = await login(email, temporaryPassword, "10.4.0.2");
    expect(back.status).toBe(200);
    expect(back.body.user.mustChangePassword).toBe(true);
  });

  it("a restart refills nothing, and (on PostgreSQL) a second control plane on the store spends the same budget", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-login-budget-"));
    const databaseUrl = await createTestDatabase();
    // One master key for both processes (each would otherwise make its own in its DATA_DIR).
    const env = { ...THROTTLE_ENV, DATA_DIR: dataDir, VDB_MASTER_KEY: randomBytes(32).toString("base64") };
    const email = "shared-budget@vdb.test";
    try {
      const first = await startTestServer({ databaseUrl, env });
      const seenBy: number[] = [];
      try {
        for (let i = 0; i < 3; i++)
          seenBy.push((await login(email, "wrong-password", "10.2.0.1", first)).status);
        // Two processes share only a real PostgreSQL; PGlite is one process's embedded store.
        if (testStoreKind() === "postgres") {
          // Its own DATA_DIR inside the first one's, removed with it.
          const second = await startTestServer({
            databaseUrl,
            env: { ...env, DATA_DIR: mkdtempSync(path.join(dataDir, "second-")) },
          });
          try {
            seenBy.push((await login(email, ADMIN_PASSWORD, "10.2.0.2", second)).status);
          } finally {
            await second.close();
          }
        }
      } finally {
        await first.close();
      }
      const restarted = await startTestServer({ databaseUrl, env });
      try {
        seenBy.push((await login(email, ADMIN_PASSWORD, "10.2.0.3", restarted)).status);
      } finally {
        await restarted.close();
      }
      expect(seenBy).toEqual(
        testStoreKind() === "postgres" ? [401, 401, 401, 429, 429] : [401, 401, 401, 429],
      );
    } finally {
      await dropTestDatabase(databaseUrl);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("the store keeps hashes, not the emails and addresses that failed", async () => {
    const rows = await server.services.db.select().from(loginFailures);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.keyHash))).toBe(true);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain("vdb.test");
    expect(stored).not.toContain("10.0.0.1");
  });

  it("budgets that have refilled are deleted, so failures from many addresses do not pile up", async () => {
    expect((await server.services.db.select().from(loginFailures)).length).toBeGreaterThan(2);
    clockOffsetMs += 901_000; // every budget so far has refilled
    expect((await login("latest@vdb.test", "wrong-password", "10.3.0.1")).status).toBe(401);
    // What is left: the two budgets that failure just spent (its email's and its address's).
    expect((await server.services.db.select().from(loginFailures)).length).toBe(2);
  });
});
