import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, memberWithSession, trpcAs, userWithSession } from "../testing/http";

let server: TestServer;
let tenantId: string;
let plain: { userId: string; token: string };

beforeAll(async () => {
  server = await startTestServer();
  tenantId = (
    await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "users-screen", name: "U" },
    })
  ).body.id;
  plain = await memberWithSession(server.url, server.adminToken, tenantId, "plain@users.test", "owner");
});
afterAll(async () => server?.close());

const login = (email: string, password: string) =>
  api(server.url, "POST", "/auth/login", { body: { email, password } });

async function addUser(email: string, isOperator = false) {
  const added = await api(server.url, "POST", "/users/invites", {
    token: server.adminToken,
    body: { email, isOperator },
  });
  expect(added.status).toBe(201);
  return added.body as { user: { id: string; email: string }; temporaryPassword: string };
}

describe("a password an administrator set", () => {
  it("opens nothing but the password change until the user has chosen their own, on REST and tRPC", async () => {
    const { user, temporaryPassword } = await addUser("Newcomer@Users.test");
    expect(user.email).toBe("newcomer@users.test");
    expect(temporaryPassword).toMatch(/^[\w-]{16}$/);
    const session = await login("newcomer@users.test", temporaryPassword);
    expect(session.status).toBe(200);
    expect(session.body.user.mustChangePassword).toBe(true);
    const token = session.body.token as string;

    const me = await api(server.url, "GET", "/auth/me", { token });
    expect(me.body).toMatchObject({ kind: "user", mustChangePassword: true });
    const rest = await api(server.url, "GET", "/tenants", { token });
    expect(rest.status).toBe(403);
    expect(rest.body.error).toMatchObject({
      code: "FORBIDDEN",
      message: expect.stringContaining("POST /api/v1/auth/password"),
    });
    await expect(trpcAs(server.url, token).tenants.list.query({})).rejects.toThrow(/choose your own first/);
    expect((await trpcAs(server.url, token).auth.me.query()).kind).toBe("user");

    const changed = await api(server.url, "POST", "/auth/password", {
      token,
      body: { currentPassword: temporaryPassword, newPassword: "newcomer-own-password" },
    });
    expect(changed.status).toBe(200);
    expect((await api(server.url, "GET", "/tenants", { token })).status).toBe(200);
    expect((await api(server.url, "GET", "/auth/me", { token })).body.mustChangePassword).toBe(false);
  });

  it("still lets the user log out", async () => {
    const { temporaryPassword } = await addUser("leaver@users.test");
    const token = (await login("leaver@users.test", temporaryPassword)).body.token;
    expect((await api(server.url, "POST", "/auth/logout", { token })).status).toBe(200);
    expect((await api(server.url, "GET", "/auth/me", { token })).status).toBe(401);
  });
});

describe("the platform's users (operators)", () => {
  it("lists every user with their tenant roles, searchable and paged", async () => {
    await addUser("page-1@users.test");
    await addUser("page-2@users.test");
    await addUser("page-3@users.test");
    const first = await api(server.url, "GET", "/users?search=page-&limit=2", { token: server.adminToken });
    expect(first.status).toBe(200);
    expect(first.body.items.map((u: { email: string }) => u.email)).toEqual([
      "page-3@users.test",
      "page-2@users.test",
    ]);
    const second = await api(
      server.url,
      "GET",
      `/users?search=page-&limit=2&cursor=${first.body.nextCursor}`,
      {
        token: server.adminToken,
      },
    );
    expect(second.body.items.map((u: { email: string }) => u.email)).toEqual(["page-1@users.test"]);
    expect(second.body.nextCursor).toBeNull();

    const owner = await api(server.url, "GET", "/users?search=plain@", { token: server.adminToken });
    expect(owner.body.items).toEqual([
      expect.objectContaining({
        id: plain.userId,
        isOperator: false,
        mustChangePassword: false,
        memberships: [{ tenantId, role: "owner", tenantName: "U" }],
      }),
    ]);
    const wildcard = await api(server.url, "GET", "/users?search=%25", { token: server.adminToken });
    expect(wildcard.body.items).toEqual([]);
  });

  it("refuses everyone but operators, and bad input with a clear error", async () => {
    for (const [method, path, body] of [
      ["GET", "/users", undefined],
      ["POST", "/users/invites", { email: "x@users.test" }],
      ["POST", `/users/${plain.userId}/password-reset`, undefined],
      ["PATCH", `/users/${plain.userId}`, { isOperator: true }],
      ["DELETE", `/users/${plain.userId}`, undefined],
    ] as const) {
      const refused = await api(server.url, method, path, { token: plain.token, body });
      expect([path, refused.status, refused.body.error.code]).toEqual([path, 403, "FORBIDDEN"]);
    }
    expect((await api(server.url, "GET", "/users")).status).toBe(401);
    const badId = await api(server.url, "DELETE", "/users/not-a-user-id", { token: server.adminToken });
    expect(badId.status).toBe(400);
    expect(badId.body.error.code).toBe("VALIDATION_FAILED");
    const unknown = await api(server.url, "POST", "/users/usr_00000000000000000000/password-reset", {
      token: server.adminToken,
    });
    expect(unknown.status).toBe(404);
    const taken = await api(server.url, "POST", "/users/invites", {
      token: server.adminToken,
      body: { email: "plain@users.test" },
    });
    expect(taken.status).toBe(409);
    const extra = await api(server.url, "PATCH", `/users/${plain.userId}`, {
      token: server.adminToken,
      body: { isOperator: true, email: "sneaky@users.test" },
    });
    expect(extra.status).toBe(400);
  });

  it("resets a forgotten password: every session ends, and the new one must be replaced", async () => {
    const forgetful = await userWithSession(server.url, server.adminToken, "forgetful@users.test");
    const reset = await api(server.url, "POST", `/users/${forgetful.userId}/password-reset`, {
      token: server.adminToken,
    });
    expect(reset.status).toBe(200);
    expect(reset.body.user).toMatchObject({ id: forgetful.userId, mustChangePassword: true });
    expect((await api(server.url, "GET", "/auth/me", { token: forgetful.token })).status).toBe(401);
    expect((await login("forgetful@users.test", "a-long-enough-password")).status).toBe(401);
    const session = await login("forgetful@users.test", reset.body.temporaryPassword);
    expect(session.body.user.mustChangePassword).toBe(true);
    expect((await api(server.url, "GET", "/tenants", { token: session.body.token })).status).toBe(403);
  });

  it("grants and revokes the operator role, never on oneself", async () => {
    const helper = await userWithSession(server.url, server.adminToken, "helper@users.test");
    expect((await api(server.url, "GET", "/users", { token: helper.token })).status).toBe(403);
    const granted = await api(server.url, "PATCH", `/users/${helper.userId}`, {
      token: server.adminToken,
      body: { isOperator: true },
    });
    expect(granted.body.isOperator).toBe(true);
    expect((await api(server.url, "GET", "/users", { token: helper.token })).status).toBe(200);
    const me = await api(server.url, "GET", "/auth/me", { token: helper.token });
    const self = await api(server.url, "PATCH", `/users/${me.body.userId}`, {
      token: helper.token,
      body: { isOperator: false },
    });
    expect(self.status).toBe(403);
    expect(self.body.error.message).toContain("yourself");
    await api(server.url, "PATCH", `/users/${helper.userId}`, {
      token: server.adminToken,
      body: { isOperator: false },
    });
    expect((await api(server.url, "GET", "/users", { token: helper.token })).status).toBe(403);
  });

  it("removes a user, but not a tenant's last owner, with the people named in the audit log", async () => {
    const lastOwner = await api(server.url, "DELETE", `/users/${plain.userId}`, { token: server.adminToken });
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.error.message).toContain("last owner");
    expect((await api(server.url, "GET", "/auth/me", { token: plain.token })).status).toBe(200);

    await memberWithSession(server.url, server.adminToken, tenantId, "co-owner@users.test", "owner");
    const removed = await api(server.url, "DELETE", `/users/${plain.userId}`, { token: server.adminToken });
    expect(removed.status).toBe(200);
    expect((await api(server.url, "GET", "/auth/me", { token: plain.token })).status).toBe(401);
    expect((await login("plain@users.test", "a-long-enough-password")).status).toBe(401);
    const members = await api(server.url, "GET", `/tenants/${tenantId}/members`, {
      token: server.adminToken,
    });
    expect(members.body.items.map((m: { email: string }) => m.email)).toEqual(["co-owner@users.test"]);

    const audit = await api(server.url, "GET", "/audit?limit=100", { token: server.adminToken });
    const actions = audit.body.items.map((entry: { action: string }) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        "user.remove",
        "user.operator_grant",
        "user.operator_revoke",
        "user.password_reset",
      ]),
    );
    const removal = audit.body.items.find((entry: { action: string }) => entry.action === "user.remove");
    expect(removal.metadata).toMatchObject({
      email: "plain@users.test",
      memberships: [{ tenantId, role: "owner" }],
    });
  });
});
