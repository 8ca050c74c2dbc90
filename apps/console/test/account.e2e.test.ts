import type { TestServer } from "@vdb/control-plane/testing";
import { api, userWithSession } from "@vdb/control-plane/testing/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessibilityReport, launchChromium, newPage, screenshot } from "./browser";
import { startConsoleServer } from "./console-server";

const EMAIL = "kim@vdb.test";
const FIRST = "first-password-1";
const SECOND = "second-password-2";

let server: TestServer;
let browser: Browser;
let page: Page;
let firstSession = "";

beforeAll(async () => {
  server = await startConsoleServer();
  firstSession = (await userWithSession(server.url, server.adminToken, EMAIL, FIRST)).token;
  browser = await launchChromium();
  page = await newPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function logIn(password: string) {
  await page.goto(`${server.url}/login`);
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

describe("a console user's own account", () => {
  it("changes the password: wrong current and mismatched repeats are explained, other sessions end", async () => {
    // Sessions elsewhere (the one made with the user, another from a script): they end with the change.
    const elsewhere = await api(server.url, "POST", "/auth/login", {
      body: { email: EMAIL, password: FIRST },
    });
    await logIn(FIRST);
    await page.waitForURL("**/tenants");
    await page.getByRole("link", { name: "Account" }).click();
    await page.getByRole("heading", { name: "Account", level: 1 }).waitFor();
    const report = await accessibilityReport(page);
    expect(report.unlabelled).toEqual([]);

    await page.getByLabel("Current password").fill("not-my-password");
    await page.getByLabel("New password", { exact: true }).fill(SECOND);
    await page.getByLabel("Repeat the new password").fill(`${SECOND}x`);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("does not match the new password").waitFor();

    await page.getByLabel("Repeat the new password").fill(SECOND);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("is wrong").waitFor();

    await page.getByLabel("Current password").fill(FIRST);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByRole("status").getByText("Password changed.").waitFor();
    expect(await page.getByRole("status").textContent()).toContain("2 other session(s) were logged out");
    await screenshot(page, "account-password-changed");
    for (const token of [firstSession, elsewhere.body.token]) {
      expect((await api(server.url, "GET", "/auth/me", { token })).status).toBe(401);
    }
  });

  it("logs in with the new password only", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL("**/login");
    await logIn(FIRST);
    await page
      .getByRole("alert")
      .filter({ hasText: /password/i })
      .waitFor();
    await logIn(SECOND);
    await page.waitForURL("**/tenants");
  });
});
