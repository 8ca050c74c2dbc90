import { startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { api, userWithSession } from "@vdb/control-plane/testing/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVdb } from "./testing/run-vdb";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
}, 60_000);
afterAll(async () => server?.close());

describe("vdb password", { timeout: 60_000 }, () => {
  it("changes the session user's password from the environment; other sessions end", async () => {
    const user = await userWithSession(
      server.url,
      server.adminToken,
      "cli@password.test",
      "first-password-1",
    );
    const other = await api(server.url, "POST", "/auth/login", {
      body: { email: "cli@password.test", password: "first-password-1" },
    });
    const base = { VDB_URL: server.url, VDB_SESSION_TOKEN: user.token };

    const missing = await runVdb(["password"], base);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("VDB_NEW_PASSWORD");

    const wrong = await runVdb(["password"], {
      ...base,
      VDB_CURRENT_PASSWORD: "not-my-password",
      VDB_NEW_PASSWORD: "second-password-2",
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: .*wrong/);

    const changed = await runVdb(["password"], {
      ...base,
      VDB_CURRENT_PASSWORD: "first-password-1",
      VDB_NEW_PASSWORD: "second-password-2",
    });
    expect(changed).toMatchObject({ code: 0, stderr: "" });
    expect(changed.stdout).toBe("Password changed. 1 other session(s) were logged out; this one stays.\n");
    expect((await api(server.url, "GET", "/auth/me", { token: other.body.token })).status).toBe(401);
    expect((await api(server.url, "GET", "/auth/me", { token: user.token })).status).toBe(200);
    const login = await api(server.url, "POST", "/auth/login", {
      body: { email: "cli@password.test", password: "second-password-2" },
    });
    expect(login.status).toBe(200);
  });

  it("refuses an API key: a password belongs to a console user", async () => {
    const refused = await runVdb(["password"], {
      VDB_URL: server.url,
      VDB_API_KEY: "vdbk_whatever",
      VDB_CURRENT_PASSWORD: "a",
      VDB_NEW_PASSWORD: "b",
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("console user");
  });
});
