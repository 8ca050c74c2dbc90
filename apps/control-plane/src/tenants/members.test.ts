import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcAs, userWithSession } from "../testing/http";

let server: TestServer;
let tenantA: string;
let tenantB: string;
let owner: { userId: string; token: string };
let admin: { userId: string; token: string };
let viewer: { userId: string; token: string };

beforeAll(async () => {
  server = await startTestServer();
  const token = server.adminToken;
  tenantA = (await api(server.url, "POST", "/tenants", { token, body: { slug: "members-a", name: "A" } }))
    .body.id;
  tenantB = (await api(server.url, "POST", "/tenants", { token, body: { slug: "members-b", name: "B" } }))
    .body.id;
  owner = await userWithSession(server.url, token, "owner@members.test");
  admin = await userWithSession(server.url, token, "admin@members.test");
  viewer = await userWithSession(server.url, token, "viewer@members.test");
  for (const [user, role] of [
    [owner, "owner"],
    [admin, "admin"],
    [viewer, "viewer"],
  ] as const) {
    const set = await api(server.url, "PUT", `/tenants/${tenantA}/members/${user.userId}`, {
      token,
      body: { role },
    });
    expect(set.status).toBe(200);
  }
});
afterAll(async () => server?.close());

describe("a tenant's members over REST", () => {
  it("lists members with email, name and role", async () => {
    const list = await api(server.url, "GET", `/tenants/${tenantA}/members`, { token: admin.token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([
      ["admin@members.test", "admin"],
      ["owner@members.test", "owner"],
      ["viewer@members.test", "viewer"],
    ]);
  });

  it("invites a new email: an account with a temporary password that logs in and sees only this tenant", async () => {
    const invited = await api(server.url, "POST", `/tenants/${tenantA}/members`, {
      token: admin.token,
      body: { email: "New.Person@Members.test", role: "viewer" },
    });
    expect(invited.status).toBe(201);
    expect(invited.body.member).toMatchObject({
      email: "new.person@members.test",
      name: "new.person",
      role: "viewer",
    });
    expect(invited.body.temporaryPassword).toMatch(/^[\w-]{16}$/);
    const login = await api(server.url, "POST", "/auth/login", {
      body: { email: "new.person@members.test", password: invited.body.temporaryPassword },
    });
    expect(login.status).toBe(200);
    expect(login.body.user.mustChangePassword).toBe(true);
    // The admin knows that password: it opens nothing until the person has chosen their own.
    const early = await api(server.url, "GET", "/tenants", { token: login.body.token });
    expect(early.status).toBe(403);
    expect(early.body.error.message).toContain("choose your own first");
    const changed = await api(server.url, "POST", "/auth/password", {
      token: login.body.token,
      body: { currentPassword: invited.body.temporaryPassword, newPassword: "my-own-password-1" },
    });
    expect(changed.status).toBe(200);
    const tenants = await api(server.url, "GET", "/tenants", { token: login.body.token });
    expect(tenants.body.items.map((t: { id: string }) => t.id)).toEqual([tenantA]);
  });

  it("invites an existing account without touching its password, and refuses a second invite", async () => {
    const invited = await api(server.url, "POST", `/tenants/${tenantB}/members`, {
      token: server.adminToken,
      body: { email: "viewer@members.test", role: "admin" },
    });
    expect(invited.status).toBe(201);
    expect(invited.body.temporaryPassword).toBeNull();
    const login = await api(server.url, "POST", "/auth/login", {
      body: { email: "viewer@members.test", password: "a-long-enough-password" },
    });
    expect(login.status).toBe(200);
    const again = await api(server.url, "POST", `/tenants/${tenantB}/members`, {
      token: server.adminToken,
      body: { email: "viewer@members.test", role: "viewer" },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain("already a member");
  });

  it("rejects bad input with a message", async () => {
    const bad = await api(server.url, "POST", `/tenants/${tenantA}/members`, {
      token: admin.token,
      body: { email: "not-an-email", role: "king" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
  });

  it("changes a role and removes a member, with audit entries", async () => {
    const invited = await api(server.url, "POST", `/tenants/${tenantA}/members`, {
      token: admin.token,
      body: { email: "temp@members.test", role: "viewer" },
    });
    const userId = invited.body.member.userId;
    const promoted = await api(server.url, "PUT", `/tenants/${tenantA}/members/${userId}`, {
      token: admin.token,
      body: { role: "admin" },
    });
    expect(promoted.body).toEqual({ tenantId: tenantA, role: "admin" });
    const removed = await api(server.url, "DELETE", `/tenants/${tenantA}/members/${userId}`, {
      token: admin.token,
    });
    expect(removed.body).toEqual({ removed: true });
    const list = await api(server.url, "GET", `/tenants/${tenantA}/members`, { token: admin.token });
    expect(list.body.items.map((m: { userId: string }) => m.userId)).not.toContain(userId);
    const audit = await api(server.url, "GET", `/audit?tenantId=${tenantA}&limit=100`, {
      token: admin.token,
    });
    const mine = audit.body.items.filter((entry: { targetId: string }) => entry.targetId === userId);
    expect(mine.map((entry: { action: string }) => entry.action)).toEqual([
      "member.remove",
      "member.set",
      "member.invite",
    ]);
    expect(mine.every((entry: { actorId: string }) => entry.actorId === admin.userId)).toBe(true);
    const again = await api(server.url, "DELETE", `/tenants/${tenantA}/members/${userId}`, {
      token: admin.token,
    });
    expect(again.status).toBe(404);
  });
});

describe("who may manage members", () => {
  it("a viewer may not list, invite, change or remove", async () => {
    const token = viewer.token;
    const list = await api(server.url, "GET", `/tenants/${tenantA}/members`, { token });
    const invite = await api(server.url, "POST", `/tenants/${tenantA}/members`, {
      token,
      body: { email: "x@members.test", role: "viewer" },
    });
    const change = await api(server.url, "PUT", `/tenants/${tenantA}/members/${viewer.userId}`, {
      token,
      body: { role: "admin" },
    });
    const remove = await api(server.url, "DELETE", `/tenants/${tenantA}/members/${admin.userId}`, { token });
    expect([list.status, invite.status, change.status, remove.status]).toEqual([403, 403, 403, 403]);
    expect(
      (
        await api(server.url, "POST", "/auth/login", {
          body: { email: "x@members.test", password: "whatever-1234" },
        })
      ).status,
    ).toBe(401);
  });

  it("an admin of one tenant cannot see or touch another's members", async () => {
    const list = await api(server.url, "GET", `/tenants/${tenantB}/members`, { token: admin.token });
    const invite = await api(server.url, "POST", `/tenants/${tenantB}/members`, {
      token: admin.token,
      body: { email: "admin@members.test", role: "owner" },
    });
    expect([list.status, invite.status]).toEqual([403, 403]);
  });

  it("an admin cannot grant the owner role or demote or remove an owner; the owner can, but not the last owner", async () => {
    const grant = await api(server.url, "PUT", `/tenants/${tenantA}/members/${admin.userId}`, {
      token: admin.token,
      body: { role: "owner" },
    });
    expect(grant.status).toBe(403);
    const demote = await api(server.url, "PUT", `/tenants/${tenantA}/members/${owner.userId}`, {
      token: admin.token,
      body: { role: "viewer" },
    });
    expect(demote.status).toBe(403);
    const remove = await api(server.url, "DELETE", `/tenants/${tenantA}/members/${owner.userId}`, {
      token: admin.token,
    });
    expect(remove.status).toBe(403);
    const leave = await api(server.url, "DELETE", `/tenants/${tenantA}/members/${owner.userId}`, {
      token: owner.token,
    });
    expect(leave.status).toBe(409);
    expect(leave.body.error.message).toContain("last owner");
    const promote = await api(server.url, "PUT", `/tenants/${tenantA}/members/${admin.userId}`, {
      token: owner.token,
      body: { role: "owner" },
    });
    expect(promote.status).toBe(200);
    const stepDown = await api(server.url, "PUT", `/tenants/${tenantA}/members/${owner.userId}`, {
      token: owner.token,
      body: { role: "admin" },
    });
    expect(stepDown.status).toBe(200);
    const list = await api(server.url, "GET", `/tenants/${tenantA}/members`, { token: admin.token });
    const roles = Object.fromEntries(
      list.body.items.map((m: { email: string; role: string }) => [m.email, m.role]),
    );
    expect(roles).toMatchObject({ "admin@members.test": "owner", "owner@members.test": "admin" });
  });

  it("works the same over tRPC", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const invited = await client.tenants.inviteMember.mutate({
      tenantId: tenantB,
      email: "t@members.test",
      role: "viewer",
    });
    expect(invited.temporaryPassword).not.toBeNull();
    const list = await client.tenants.listMembers.query({ tenantId: tenantB });
    expect(list.items.map((m) => m.email)).toContain("t@members.test");
    expect(
      await client.tenants.removeMember.mutate({ tenantId: tenantB, userId: invited.member.userId }),
    ).toEqual({
      removed: true,
    });
    await expect(
      trpcAs(server.url, viewer.token).tenants.listMembers.query({ tenantId: tenantA }),
    ).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
  });
});
