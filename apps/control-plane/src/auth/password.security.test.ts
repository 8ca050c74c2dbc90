import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { currentBuildOf } from "../lib/compiled-build";
import { type Database, openStore } from "../lib/db/client";
import { auditLog, users } from "../lib/db/schema";
import { hashPassword } from "../lib/secrets";
import { startTestServer, type TestServer, testStoreKind } from "../testing";
import { api, tenantWithKey, userWithSession } from "../testing/http";
import { openTestStore } from "../testing/pglite-template";
import { LoginThrottle } from "./login-throttle";

const RESET_SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../reset-password.ts");
/** The script's current build (a process of it costs a fraction of one through tsx), else its source. */
const RESET_COMMAND = (() => {
  const built = currentBuildOf("reset-password");
  return built ? [built] : ["--import", "tsx", RESET_SOURCE];
})();
const run = promisify(execFile);

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const login = (email: string, password: string) =>
  api(server.url, "POST", "/auth/login", { body: { email, password } });

describe("changing one's own password", () => {
  it("checks the current password, ends the other sessions and keeps this one", async () => {
    const email = "pat@vdb.test";
    const { token } = await userWithSession(server.url, server.adminToken, email, "first-password-1");
    const other = (await login(email, "first-password-1")).body.token as string;

    const wrong = await api(server.url, "POST", "/auth/password", {
      token,
      body: { currentPassword: "not-my-password", newPassword: "second-password-2" },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({
      code: "VALIDATION_FAILED",
      message: "The current password is wrong",
    });
    expect(wrong.body.error.requestId).toBeTruthy();
    const same = await api(server.url, "POST", "/auth/password", {
      token,
      body: { currentPassword: "first-password-1", newPassword: "first-password-1" },
    });
    expect(same.status).toBe(400);
    expect(JSON.stringify(same.body.error.issues)).toContain("must differ from the current password");
    const short = await api(server.url, "POST", "/auth/password", {
      token,
      body: { currentPassword: "first-password-1", newPassword: "short" },
    });
    expect(short.status).toBe(400);
    // Nothing was changed by the refusals: the other session still works.
    expect((await api(server.url, "GET", "/auth/me", { token: other })).status).toBe(200);

    const changed = await api(server.url, "POST", "/auth/password", {
      token,
      body: { currentPassword: "first-password-1", newPassword: "second-password-2" },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ ok: true, endedSessions: 1 });
    expect((await api(server.url, "GET", "/auth/me", { token: other })).status).toBe(401);
    expect((await api(server.url, "GET", "/auth/me", { token })).status).toBe(200);
    expect((await login(email, "first-password-1")).status).toBe(401);
    expect((await login(email, "second-password-2")).status).toBe(200);

    const [entry] = await server.services.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "user.password_change"));
    expect(entry).toMatchObject({ actorType: "user", metadata: { endedSessions: 1 } });
  });

  it("is the same over tRPC", async () => {
    const email = "sam@vdb.test";
    const { token } = await userWithSession(server.url, server.adminToken, email, "first-password-1");
    const response = await fetch(`${server.url}/trpc/auth.changePassword`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ currentPassword: "first-password-1", newPassword: "second-password-2" }),
    });
    expect(response.status).toBe(200);
    expect((await login(email, "second-password-2")).status).toBe(200);
  });

  it("needs a session: an API key cannot change anyone's password", async () => {
    const { key } = await tenantWithKey(server.url, server.adminToken, "pw-keys");
    const refused = await api(server.url, "POST", "/auth/password", {
      headers: { "x-api-key": key },
      body: { currentPassword: "anything-at-all", newPassword: "second-password-2" },
    });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/session token/);
  });
});

describe("PASSWORD_HASH_COST", () => {
  const storedHash = async (email: string) => {
    const [user] = await server.services.db.select().from(users).where(eq(users.email, email));
    return user!.passwordHash;
  };

  it("hashes new passwords at its cost; a hash stored at another cost still logs in", async () => {
    expect(server.config.PASSWORD_HASH_COST).toBe(1024); // the tests' cost
    const { token } = await userWithSession(
      server.url,
      server.adminToken,
      "cost@vdb.test",
      "first-password-1",
    );
    expect(await storedHash("cost@vdb.test")).toMatch(/^scrypt\$1024\$8\$1\$/);

    // A hash made at the production default (before the setting was lowered, say) keeps its cost.
    await server.services.db
      .update(users)
      .set({ passwordHash: await hashPassword("older-password-1", 16_384) })
      .where(eq(users.email, "cost@vdb.test"));
    expect((await login("cost@vdb.test", "older-password-1")).status).toBe(200);
    expect((await login("cost@vdb.test", "first-password-1")).status).toBe(401);

    // Changing the password hashes the new one at today's cost.
    const changed = await api(server.url, "POST", "/auth/password", {
      token,
      body: { currentPassword: "older-password-1", newPassword: "second-password-2" },
    });
    expect(changed.status).toBe(200);
    expect(await storedHash("cost@vdb.test")).toMatch(/^scrypt\$1024\$/);
    expect((await login("cost@vdb.test", "second-password-2")).status).toBe(200);
  });

  it("is a power of two from 1024 to 65536; anything else stops the start with the setting named", () => {
    expect(loadConfig({}).PASSWORD_HASH_COST).toBe(16_384);
    expect(loadConfig({ PASSWORD_HASH_COST: "65536" }).PASSWORD_HASH_COST).toBe(65_536);
    for (const bad of ["512", "3000", "131072", "16k", "-16384"]) {
      expect(() => loadConfig({ PASSWORD_HASH_COST: bad })).toThrow(/PASSWORD_HASH_COST/);
    }
  });
});

// The script on the embedded store (what a lost operator password usually means); the same code
// on PostgreSQL only differs in `openStore`, which every other test covers.
describe.runIf(testStoreKind() === "pglite")(
  "the operator's reset on the server (npm run reset-password)",
  () => {
    let dataDir: string;

    beforeAll(async () => {
      // A control plane's embedded store with one operator in it, then closed, as after a stop.
      dataDir = mkdtempSync(path.join(tmpdir(), "vdb-reset-"));
      // A store on disk, as the platform's embedded default keeps it (from the test template).
      const store = await openTestStore({ databaseUrl: "", dataDir });
      await store.db.insert(users).values({
        id: "usr_resetresetresetreset",
        email: "ops@vdb.test",
        name: "Ops",
        passwordHash: await hashPassword("forgotten-password", 1024),
        isOperator: true,
      });
      await store.close();
    });
    afterAll(() => {
      rmSync(dataDir, { recursive: true, force: true });
    });

    const reset = (email: string, env: Record<string, string> = {}) =>
      run(process.execPath, [...RESET_COMMAND, email], {
        env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: "", LOG_LEVEL: "silent", ...env },
      });

    // Each run starts a process (through tsx when the build is stale): seconds on a busy machine.
    it("prints a new password once, which then logs in, and refills the email's failed-login budget", {
      timeout: 180_000,
    }, async () => {
      // One failure per account spends the budget: the next attempt, from anywhere, is refused.
      const throttleOf = (db: Database) =>
        new LoginThrottle(db, { perAccount: 1, perAddress: 100, windowSeconds: 900 });
      const locked = await openStore({ dataDir });
      try {
        await throttleOf(locked.db).recordFailure("ops@vdb.test", "10.9.0.1");
        await expect(throttleOf(locked.db).check("ops@vdb.test", "10.9.0.2")).rejects.toThrow(
          /Too many failed logins/,
        );
      } finally {
        await locked.close();
      }

      const { stdout } = await reset("ops@vdb.test");
      const password = /New password: (\S+)\s+\(shown once\)/.exec(stdout)?.[1];
      expect(password).toBeTruthy();
      const store = await openStore({ dataDir });
      try {
        await expect(throttleOf(store.db).check("ops@vdb.test", "10.9.0.2")).resolves.toBeUndefined();
        const [user] = await store.db.select().from(users).where(eq(users.email, "ops@vdb.test"));
        const { verifyPassword } = await import("../lib/secrets");
        expect(await verifyPassword(password!, user!.passwordHash)).toBe(true);
        expect(await verifyPassword("forgotten-password", user!.passwordHash)).toBe(false);
        const [entry] = await store.db
          .select()
          .from(auditLog)
          .where(eq(auditLog.action, "user.password_reset"));
        expect(entry).toMatchObject({ actorType: "system", targetId: user!.id });
      } finally {
        await store.close();
      }
    });

    it("refuses clearly: an unknown email, a short chosen password, a running platform", {
      timeout: 300_000,
    }, async () => {
      await expect(reset("nobody@vdb.test")).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining("No user has the email nobody@vdb.test"),
      });
      await expect(reset("ops@vdb.test", { VDB_NEW_PASSWORD: "short" })).rejects.toMatchObject({
        stderr: expect.stringContaining("The new password must be at least 10 characters"),
      });
      const running = await openStore({ dataDir });
      try {
        await expect(reset("ops@vdb.test")).rejects.toMatchObject({
          code: 1,
          stderr: expect.stringMatching(/Password reset failed: .*(in use|lock|another)/i),
        });
      } finally {
        await running.close();
      }
    });
  },
);
