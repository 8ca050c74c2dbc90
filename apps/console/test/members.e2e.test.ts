import type { TestServer } from "@vdb/control-plane/testing";
import { api, memberWithSession } from "@vdb/control-plane/testing/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accessibilityReport,
  chooseOwnPassword,
  firstLogin,
  launchChromium,
  logIn,
  newPage,
  screenshot,
} from "./browser";
import { startConsoleServer } from "./console-server";

const OWNER = "olga@members.test";
const PASSWORD = "owner-password-1";
const INVITEE = "ivan@members.test";

let server: TestServer;
let browser: Browser;
let page: Page;
let tenantId = "";
let ownerToken = "";
let inviteeId = "";
let temporaryPassword = "";

beforeAll(async () => {
  server = await startConsoleServer();
  const tenant = await api(server.url, "POST", "/tenants", {
    token: server.adminToken,
    body: { slug: "people-co", name: "People Co" },
  });
  tenantId = tenant.body.id;
  ownerToken = (await memberWithSession(server.url, server.adminToken, tenantId, OWNER, "owner", PASSWORD))
    .token;
  browser = await launchChromium();
  page = await newPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function row(email: string) {
  return page.getByRole("row").filter({ hasText: email });
}

describe("a tenant owner manages the tenant's members in the console", () => {
  it("invites a new person, who gets a temporary password that logs in", async () => {
    await logIn(page, server.url, OWNER, PASSWORD);
    await page.goto(`${server.url}/tenants/${tenantId}`);
    await page
      .getByRole("navigation", { name: "Tenant sections" })
      .getByRole("link", { name: "Members" })
      .click();
    await page.getByRole("heading", { name: "Invite a person" }).waitFor();
    await row(OWNER).waitFor();
    expect((await accessibilityReport(page)).unlabelled).toEqual([]);

    await page.getByLabel("Email", { exact: true }).fill("not an email");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    await page.getByText("must be an email address").waitFor();

    await page.getByLabel("Email", { exact: true }).fill(INVITEE);
    await page.getByLabel("Role", { exact: true }).selectOption("viewer");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    await page.getByRole("heading", { name: `Account created for ${INVITEE}` }).waitFor();
    const temporary = await page.getByTestId("temporary-password").inputValue();
    expect(temporary.length).toBeGreaterThanOrEqual(16);
    await row(INVITEE).waitFor();
    expect(await page.getByLabel(`Role of ${INVITEE}`).inputValue()).toBe("viewer");
    await screenshot(page, "members-invited");

    const login = await api(server.url, "POST", "/auth/login", {
      body: { email: INVITEE, password: temporary },
    });
    expect(login.status).toBe(200);
    inviteeId = login.body.user.id;
    expect(login.body.user.memberships).toEqual([{ tenantId, role: "viewer" }]);
    temporaryPassword = temporary;
  });

  it("asks the invitee, at their first login, to replace the temporary password before anything else", async () => {
    const invitee = await newPage(browser);
    await firstLogin(invitee, server.url, INVITEE, temporaryPassword);
    expect((await accessibilityReport(invitee)).unlabelled).toEqual([]);
    // No way around it: another address shows the same screen.
    await invitee.goto(`${server.url}/tenants/${tenantId}`);
    await invitee.getByRole("heading", { name: "Choose your password" }).waitFor();
    await screenshot(invitee, "members-first-login");

    await chooseOwnPassword(invitee, temporaryPassword, "ivans-own-password");
    await invitee.getByRole("heading", { name: "People Co" }).first().waitFor();
    const own = await api(server.url, "POST", "/auth/login", {
      body: { email: INVITEE, password: "ivans-own-password" },
    });
    expect(own.body.user.mustChangePassword).toBe(false);
    await invitee.context().close();
  });

  it("changes the invitee's role", async () => {
    await page.getByLabel(`Role of ${INVITEE}`).selectOption("admin");
    await expect
      .poll(async () => {
        const list = await api(server.url, "GET", `/tenants/${tenantId}/members`, { token: ownerToken });
        return list.body.items.find((m: { email: string }) => m.email === INVITEE)?.role;
      })
      .toBe("admin");
  });

  it("refuses to remove the last owner, with the reason on screen", async () => {
    await page.getByRole("button", { name: `Remove ${OWNER}` }).click();
    await page.getByRole("button", { name: "Remove member" }).click();
    await page.getByText("last owner").waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();
  });

  it("removes the invitee, who loses access at once", async () => {
    await page.getByRole("button", { name: `Remove ${INVITEE}` }).click();
    await page.getByRole("button", { name: "Remove member" }).click();
    await row(INVITEE).waitFor({ state: "detached" });
    const list = await api(server.url, "GET", `/tenants/${tenantId}/members`, { token: ownerToken });
    expect(list.body.items.map((m: { email: string }) => m.email)).toEqual([OWNER]);
    const audit = await api(server.url, "GET", `/audit?tenantId=${tenantId}`, { token: ownerToken });
    const actions = audit.body.items
      .filter((entry: { targetId: string }) => entry.targetId === inviteeId)
      .map((entry: { action: string }) => entry.action);
    expect(actions).toEqual(["member.remove", "member.set", "member.invite"]);
  });

  it("shows who did what in the tenant's audit log: emails beside the ids", async () => {
    await page
      .getByRole("navigation", { name: "Tenant sections" })
      .getByRole("link", { name: "Audit log" })
      .click();
    const removal = page.getByRole("row").filter({ hasText: "member.remove" });
    await removal.waitFor();
    expect(await removal.getByTestId("audit-actor").textContent()).toContain(OWNER);
    // The removed person's account still exists, so the target is named too.
    expect(await removal.getByTestId("audit-target").textContent()).toContain(INVITEE);
    expect(await removal.getByTestId("audit-target").textContent()).toContain(inviteeId);
    await screenshot(page, "audit-named");
  });
});
