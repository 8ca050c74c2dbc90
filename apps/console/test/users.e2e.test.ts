import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from "@vdb/control-plane/testing";
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

const FORGETFUL = "frida@users.test";
const NEWCOMER = "casey@users.test";

let server: TestServer;
let browser: Browser;
let page: Page;
let forgetful: { userId: string; token: string };
let tenantId = "";

beforeAll(async () => {
  server = await startConsoleServer();
  tenantId = (
    await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "frida-co", name: "Frida Co" },
    })
  ).body.id;
  forgetful = await memberWithSession(server.url, server.adminToken, tenantId, FORGETFUL, "admin");
  browser = await launchChromium();
  page = await newPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const row = (email: string) => page.getByRole("row").filter({ hasText: email });

describe("an operator manages the platform's users in the console", () => {
  it("lists every user with their tenant roles, and finds one by search", async () => {
    await logIn(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
    await page.getByRole("heading", { name: "Users", level: 1 }).waitFor();
    await row(FORGETFUL).waitFor();
    expect(await row(FORGETFUL).textContent()).toContain("Frida Co");
    expect(await row(ADMIN_EMAIL).textContent()).toContain("(you)");
    expect((await accessibilityReport(page)).unlabelled).toEqual([]);
    await page.getByLabel("Search users").fill("frida@");
    await row(ADMIN_EMAIL).waitFor({ state: "detached" });
    await row(FORGETFUL).waitFor();
    await page.getByLabel("Search users").fill("");
    await row(ADMIN_EMAIL).waitFor();
  });

  it("adds a user with a temporary password shown once; bad input is explained", async () => {
    await page.getByLabel("Email", { exact: true }).fill("not an email");
    await page.getByRole("button", { name: "Add user" }).click();
    await page.getByText("must be an email address").waitFor();
    await page.getByLabel("Email", { exact: true }).fill(FORGETFUL);
    await page.getByRole("button", { name: "Add user" }).click();
    await page.getByText("already exists").waitFor();

    await page.getByLabel("Email", { exact: true }).fill(NEWCOMER);
    await page.getByRole("button", { name: "Add user" }).click();
    await page.getByRole("heading", { name: `Account created for ${NEWCOMER}` }).waitFor();
    const temporary = await page.getByTestId("temporary-password").inputValue();
    await row(NEWCOMER).getByText("temporary password", { exact: true }).waitFor();
    await screenshot(page, "users-added");

    // Their first login, in a browser of their own: their own password first, then the console.
    const newcomer = await newPage(browser);
    await firstLogin(newcomer, server.url, NEWCOMER, temporary);
    await chooseOwnPassword(newcomer, temporary, "caseys-own-password");
    await newcomer.getByRole("heading", { name: "Tenants", level: 1 }).waitFor();
    await newcomer.context().close();

    await page.getByRole("button", { name: "I have handed it over — hide" }).click();
    await page.reload();
    await row(NEWCOMER).waitFor();
    expect(await row(NEWCOMER).getByText("temporary password", { exact: true }).count()).toBe(0);
  });

  it("resets a forgotten password: their sessions end, the new one is shown once", async () => {
    await row(FORGETFUL)
      .getByRole("button", { name: `Reset the password of ${FORGETFUL}` })
      .click();
    await page.getByRole("button", { name: "Reset password", exact: true }).click();
    await page.getByRole("heading", { name: `New temporary password for ${FORGETFUL}` }).waitFor();
    const temporary = await page.getByTestId("temporary-password").inputValue();
    expect((await api(server.url, "GET", "/auth/me", { token: forgetful.token })).status).toBe(401);
    const session = await api(server.url, "POST", "/auth/login", {
      body: { email: FORGETFUL, password: temporary },
    });
    expect(session.body.user.mustChangePassword).toBe(true);
  });

  it("makes a user an operator and back", async () => {
    await row(NEWCOMER)
      .getByRole("button", { name: `Make operator: ${NEWCOMER}` })
      .click();
    await row(NEWCOMER).getByText("operator", { exact: true }).waitFor();
    const casey = await api(server.url, "POST", "/auth/login", {
      body: { email: NEWCOMER, password: "caseys-own-password" },
    });
    expect((await api(server.url, "GET", "/users", { token: casey.body.token })).status).toBe(200);
    await row(NEWCOMER)
      .getByRole("button", { name: `Revoke operator from ${NEWCOMER}` })
      .click();
    await row(NEWCOMER).getByText("operator", { exact: true }).waitFor({ state: "detached" });
    expect((await api(server.url, "GET", "/users", { token: casey.body.token })).status).toBe(403);
  });

  it("removes a user after confirmation; a tenant's last owner is refused with the reason", async () => {
    await api(server.url, "PUT", `/tenants/${tenantId}/members/${forgetful.userId}`, {
      token: server.adminToken,
      body: { role: "owner" },
    });
    await page.reload();
    await row(FORGETFUL)
      .getByRole("button", { name: `Remove ${FORGETFUL}` })
      .click();
    await page.getByRole("button", { name: "Remove user" }).click();
    await page.getByText(`${FORGETFUL} is the last owner of Frida Co`).waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();

    await row(NEWCOMER)
      .getByRole("button", { name: `Remove ${NEWCOMER}` })
      .click();
    await page.getByRole("button", { name: "Remove user" }).click();
    await row(NEWCOMER).waitFor({ state: "detached" });
    const gone = await api(server.url, "POST", "/auth/login", {
      body: { email: NEWCOMER, password: "caseys-own-password" },
    });
    expect(gone.status).toBe(401);
    await screenshot(page, "users-removed");
  });
});
