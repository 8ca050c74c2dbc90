import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from "@vdb/control-plane/testing";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  accessibilityReport,
  describePage,
  focusRingOfFirstTabStop,
  launchChromium,
  markDocument,
  screenshot,
} from "./browser";
import { startConsoleServer } from "./console-server";

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

const VACATION = `# Vacation policy

Employees receive 30 days of paid vacation per year. Vacation requests go through the HR portal two weeks ahead.
Unused vacation days carry over until the end of March of the following year.`;

const PARKING = `Parking and bicycles

Parking is free in garage B for all staff. Bicycles are stored in the basement next to the showers.
Visitors park on level 2 and register at the front desk.`;

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

/** Asserts the labelled-controls and landmarks rules on whatever the page shows now. */
async function expectAccessible(where: string) {
  const report = await accessibilityReport(page);
  expect(report.unlabelled, `unlabelled controls on ${where}`).toEqual([]);
  expect(report.landmarks.header, `header on ${where}`).toBeGreaterThan(0);
  expect(report.landmarks.nav, `nav on ${where}`).toBeGreaterThan(0);
  expect(report.landmarks.main, `main on ${where}`).toBe(1);
}

async function expectVisibleFocus(where: string) {
  const ring = await focusRingOfFirstTabStop(page);
  const hasOutline = ring.outlineStyle !== "none" && ring.outlineWidth !== "0px";
  const hasShadow = ring.boxShadow !== "none";
  expect(hasOutline || hasShadow, `focus ring on ${where}: ${JSON.stringify(ring)}`).toBe(true);
}

async function openTab(name: string) {
  await page
    .getByRole("navigation", { name: "Tenant sections" })
    .getByRole("link", { name, exact: true })
    .click();
}

beforeAll(async () => {
  server = await startConsoleServer();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: DESKTOP });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.setDefaultTimeout(30_000);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * The steps build on each other (one browser page, one tenant), so after the first failure the
 * rest would only time out one after another and bury it: they are skipped, and the failing step
 * prints what the page showed.
 */
let firstFailure: string | undefined;
beforeEach(({ task, skip, onTestFailed }) => {
  if (firstFailure && task.name !== "never threw in the page") {
    skip(`an earlier step failed: "${firstFailure}"`);
  }
  onTestFailed(async () => {
    firstFailure ??= task.name;
    console.error(await describePage(page, `failed-${task.name}`));
  });
});

describe("the admin console, end to end in Chromium against a real control plane", () => {
  let tenantId = "";
  let keySecret = "";

  it("logs in (and refuses a wrong password with a readable message)", async () => {
    await page.goto(`${server.url}/tenants`);
    await page.waitForURL("**/login");
    // The address changes before React has rendered the login page: wait for its form.
    await page.getByRole("button", { name: "Log in" }).waitFor();
    await expectAccessible("login");
    await expectVisibleFocus("login");
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText("must be an email address").waitFor();
    await page.getByLabel("Email").fill(ADMIN_EMAIL);
    await page.getByLabel("Password").fill("wrong-password-here");
    await page.getByRole("button", { name: "Log in" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: /password|credentials|invalid/i })
      .waitFor();
    await screenshot(page, "01-login-error");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/tenants");
    await page.getByRole("heading", { name: "Tenants", level: 1 }).waitFor();
  });

  it("creates a tenant after validating the form with the shared schema", async () => {
    await page.getByLabel("Slug").fill("Bad Slug");
    await page.getByLabel("Name", { exact: true }).fill("Acme Support");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page.getByText("must be lowercase letters, digits and hyphens").waitFor();
    await page.getByLabel("Slug").fill("acme-support");
    await page.getByLabel("Plan", { exact: true }).selectOption("pro");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page.waitForURL(/\/tenants\/ten_[0-9a-z]{20}$/);
    tenantId = /\/tenants\/(ten_[0-9a-z]{20})/.exec(page.url())?.[1] ?? "";
    expect(tenantId).not.toBe("");
    await page.getByRole("heading", { name: "Acme Support", level: 1 }).waitFor();
  });

  it("launches the instance and shows it running without a reload", async () => {
    await page.getByText("not launched").waitFor();
    const notReloaded = await markDocument(page);
    await page.getByRole("button", { name: "Launch" }).click();
    await page.locator('.instance-state [data-status="running"]').waitFor({ timeout: 90_000 });
    expect(await notReloaded()).toBe(true);
    await page.getByText(/^http:\/\/127\.0\.0\.1:\d+$/).waitFor();
    await page.getByTestId("record-count").waitFor();
    await expectAccessible("overview");
    await expectVisibleFocus("overview");
    await screenshot(page, "03-overview-running");
  });

  it("creates an API key whose secret is shown once", async () => {
    await openTab("API keys");
    await page.getByLabel("Key name").fill("e2e search");
    await page.getByRole("checkbox", { name: /write/ }).check();
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = page.getByTestId("key-secret");
    await secret.waitFor();
    keySecret = await secret.inputValue();
    expect(keySecret).toMatch(/^vdbk_/);
    await page.getByRole("button", { name: "Copy secret" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(keySecret);
    await page.getByRole("cell", { name: "e2e search", exact: true }).waitFor();
    await expectAccessible("keys");
    await screenshot(page, "04-keys-secret-once");
    // The key works against the real API, and the secret is gone once the screen is left.
    const status = await fetch(`${server.url}/api/v1/status/${tenantId}`, {
      headers: { authorization: `Bearer ${keySecret}` },
    });
    expect(status.status).toBe(200);
    await openTab("Overview");
    await openTab("API keys");
    await page.getByRole("cell", { name: "e2e search", exact: true }).waitFor();
    expect(await page.getByTestId("key-secret").count()).toBe(0);
  });

  it("uploads two files with progress and sees both reach ready", async () => {
    await openTab("Documents");
    await page.getByTestId("file-input").setInputFiles([
      { name: "vacation.md", mimeType: "text/markdown", buffer: Buffer.from(VACATION) },
      { name: "parking.txt", mimeType: "text/plain", buffer: Buffer.from(PARKING) },
    ]);
    for (const filename of ["vacation.md", "parking.txt"]) {
      await page
        .locator(`.upload-item[data-filename="${filename}"][data-stage="ready"]`)
        .waitFor({ timeout: 90_000 });
    }
    await page.locator('tr[data-status="ready"]').nth(1).waitFor();
    expect(await page.locator('tr[data-status="ready"]').count()).toBe(2);
    // Both ingested: the queue line says so (refreshed as each settles, and every 5 s).
    await page
      .getByRole("status", { name: "Ingestion queue" })
      .getByText("Ingestion queue empty.")
      .waitFor({ timeout: 20_000 });
    await expectAccessible("documents");
    await screenshot(page, "05-documents-ready");
    await page.getByRole("button", { name: "View chunks of vacation.md" }).click();
    await page.getByRole("dialog").getByText("30 days of paid vacation").waitFor();
    await screenshot(page, "06-documents-chunk-viewer");
    await page.getByRole("dialog").getByRole("button", { name: "Close" }).click();
  });

  it("searches with a metadata filter and shows scores and metadata", async () => {
    await openTab("Search");
    await page.getByLabel("Query").fill("paid vacation days");
    await page.getByRole("button", { name: "Add condition" }).click();
    await page.getByLabel("Condition 1 field").fill("title");
    await page.getByLabel("Condition 1 value").fill("vacation.md");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    const results = page.getByRole("list", { name: "Search results" });
    await results.waitFor();
    await results.getByText("30 days of paid vacation").first().waitFor();
    expect(await results.getByText("parking.txt").count()).toBe(0);
    // Hybrid by default: each hit shows the fused score and its place in both rankings.
    await results.getByText("score").first().waitFor();
    await results
      .getByText(/keyword #1/)
      .first()
      .waitFor();
    await results
      .getByText(/vector #\d+/)
      .first()
      .waitFor();
    await page.getByLabel("Mode").selectOption("keyword");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByText("(keyword search)").waitFor();
    await results.getByText("score (BM25)").first().waitFor();
    await expectAccessible("search");
    await screenshot(page, "07-search-results");
    // A filter that cannot be built is explained on its row instead of being sent.
    await page.getByLabel("Condition 1 operator").selectOption("$gt");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByText("compares numbers; set the type to number").waitFor();
  });

  it("asks a chat question, streams the answer and opens a citation", async () => {
    await openTab("Chat");
    await page.getByLabel("Your question").fill("How many days of paid vacation do employees get?");
    await page.getByRole("button", { name: "Ask" }).click();
    const citation = page.locator("button.citation").first();
    await citation.waitFor({ timeout: 60_000 });
    await page.getByRole("list", { name: "Sources" }).waitFor();
    await citation.click();
    const dialog = page.getByRole("dialog");
    await dialog.locator('.chunk-focus[aria-current="true"]').waitFor();
    expect(await dialog.locator(".chunk-focus").textContent()).toContain("vacation");
    await screenshot(page, "08-chat-citation-open");
    await dialog.getByRole("button", { name: "Close" }).click();
    await expectAccessible("chat");
    await screenshot(page, "09-chat-answer");
  });

  it("shows usage charts and the audit log", async () => {
    await openTab("Usage");
    await page.getByRole("heading", { name: /Searches per day/ }).waitFor();
    expect(await page.locator(".chart svg rect.bar").count()).toBeGreaterThan(0);
    // The documents kept against the plan's quota: the two uploads, as the usage API counts them.
    const report = await fetch(`${server.url}/api/v1/tenants/${tenantId}/usage`, {
      headers: { authorization: `Bearer ${keySecret}` },
    }).then((response) => response.json());
    expect(report.documents).toBe(2);
    await page.getByTestId("document-count").filter({ hasText: "2" }).waitFor();
    await expectAccessible("usage");
    await screenshot(page, "10-usage");
    await openTab("Audit log");
    await page.getByRole("cell", { name: "api_key.create" }).waitFor();
    await page.getByLabel("Action").fill("document.upload");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("cell", { name: "document.upload" }).first().waitFor();
    // The unfiltered rows include uploads too: wait for the filtered list to replace them.
    await page.getByRole("cell", { name: "api_key.create" }).first().waitFor({ state: "detached" });
    expect(await page.getByRole("cell", { name: "api_key.create" }).count()).toBe(0);
    await expectAccessible("audit");
    await screenshot(page, "11-audit-tenant");
  });

  it("configures a widget with a copyable snippet and a live preview", async () => {
    await openTab("Widget");
    await page.getByRole("heading", { name: "New widget" }).waitFor();
    // The live preview starts with its panel open; it must not take focus from the form.
    await page.getByLabel("Allowed origins").focus();
    await page.locator('.widget-preview[data-preview-state="live"]').waitFor();
    expect(await page.getByLabel("Allowed origins").evaluate((el) => el === document.activeElement)).toBe(
      true,
    );
    await page.getByLabel("Allowed origins").fill("example.com/path");
    expect(await page.getByLabel("Allowed origins").inputValue()).toBe("example.com/path");
    await page.getByRole("button", { name: "Create widget" }).click();
    await page.getByText(/must be an origin like/).waitFor();
    await page.getByLabel("Allowed origins").fill("https://www.example.com");
    await page.getByLabel("Greeting").fill("Hello from Acme! Ask about vacation or parking.");
    // The real widget (its preview API, inside a shadow root; built for this run by build-console.ts).
    await page.locator(".widget-preview").getByText("Hello from Acme!").first().waitFor();
    await page.getByRole("button", { name: "Create widget" }).click();
    const snippet = page.getByTestId("widget-snippet");
    await snippet.waitFor();
    expect(await snippet.textContent()).toMatch(
      new RegExp(
        `^<script src="${server.url}/widget\\.js" data-widget-id="wid_[0-9a-z]{20}" async></script>$`,
      ),
    );
    await expectAccessible("widget");
    await screenshot(page, "12-widget-settings");
  });

  it("revokes the key, which then stops working", async () => {
    await openTab("API keys");
    await page.getByRole("button", { name: "Revoke key e2e search" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
    await page.getByRole("checkbox", { name: "Show revoked keys" }).check();
    await page.locator('[data-status="revoked"]').waitFor();
    await screenshot(page, "13-keys-revoked");
    let status = 200;
    for (let attempt = 0; attempt < 30 && status !== 401; attempt++) {
      const response = await fetch(`${server.url}/api/v1/status/${tenantId}`, {
        headers: { authorization: `Bearer ${keySecret}` },
      });
      status = response.status;
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(401);
  });

  it("lists tenants with search, and the operator's audit log", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tenants" }).click();
    await page.getByRole("link", { name: "Acme Support" }).waitFor();
    await page.getByLabel("Search tenants").fill("no-such-tenant");
    await page.getByText("No tenant matches").waitFor();
    await page.getByLabel("Search tenants").fill("acme");
    await page.getByRole("link", { name: "Acme Support" }).waitFor();
    await expectAccessible("tenants");
    await screenshot(page, "02-tenants");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("cell", { name: "tenant.create" }).waitFor();
    await screenshot(page, "14-audit-platform");
  });

  it("is usable at phone width", async () => {
    const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2 });
    const token = await page.evaluate(() => localStorage.getItem("vdb.session"));
    await phone.addInitScript((value) => localStorage.setItem("vdb.session", value ?? ""), token);
    const small = await phone.newPage();
    small.on("pageerror", (error) => pageErrors.push(error.message));
    for (const [route, name, ready] of [
      ["/tenants", "phone-tenants", "Acme Support"],
      [`/tenants/${tenantId}`, "phone-overview", "running"],
      [`/tenants/${tenantId}/documents`, "phone-documents", "vacation.md"],
      [`/tenants/${tenantId}/chat`, "phone-chat", "Chat playground"],
    ] as const) {
      await small.goto(`${server.url}${route}`);
      await small.getByText(ready, { exact: true }).first().waitFor();
      await screenshot(small, name);
      // Nothing may force the page wider than the screen (tables scroll inside their own box).
      const overflow = await small.evaluate(() => {
        const width = window.innerWidth;
        const culprits = Array.from(document.querySelectorAll("body *"))
          .filter((element) => element.getBoundingClientRect().right > width + 1)
          .filter((element) => !element.parentElement?.closest(".table-wrap, .tabs, .mainnav"))
          .map((element) => `${element.tagName.toLowerCase()}.${element.className}`)
          .slice(0, 5);
        return { by: document.documentElement.scrollWidth - width, culprits };
      });
      expect(overflow, `horizontal overflow on ${route}`).toMatchObject({ by: 0 });
    }
    await phone.close();
  });

  it("logs out", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL("**/login");
    await page.goto(`${server.url}/tenants/${tenantId}`);
    await page.waitForURL("**/login");
  });

  it("never threw in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
