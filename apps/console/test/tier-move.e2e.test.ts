import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from "@vdb/control-plane/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshot } from "./browser";
import { startConsoleServer } from "./console-server";

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function call(method: string, pathname: string, token: string, body?: unknown) {
  const res = await fetch(`${server.url}/api/v1${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  server = await startConsoleServer();
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.setDefaultTimeout(60_000);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("the console shows a tenant moving between tiers, live", () => {
  it("shared → moving… (records copied) → dedicated, without a reload", async () => {
    const tenant = await call("POST", "/tenants", server.adminToken, {
      slug: "mover",
      name: "Mover",
      plan: "free",
    });
    const tenantId = tenant.body.id as string;
    const key = await call("POST", `/tenants/${tenantId}/keys`, server.adminToken, {
      name: "e2e",
      scopes: ["read", "write"],
    });
    await call("POST", "/launch", server.adminToken, { tenantId });

    await page.goto(`${server.url}/login`);
    await page.getByLabel("Email").fill(ADMIN_EMAIL);
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/tenants");
    await page.goto(`${server.url}/tenants/${tenantId}`);
    await page.locator('.instance-state [data-status="running"]').waitFor({ timeout: 90_000 });
    await page.getByText("shared: pool").waitFor();
    await page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });
    const embedded = await call("POST", "/embed", key.body.secret, {
      ids: ["a", "b"],
      documents: ["A record that moves.", "Another record that moves."],
    });
    expect(embedded.status).toBe(200);

    // Hold the new dedicated instance's start until the console has shown the move.
    const { runtime } = server.services;
    const start = runtime.start;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    runtime.start = async (spec) => {
      if (spec.tenantId === tenantId) await held;
      return start.call(runtime, spec);
    };
    try {
      const changed = await call("PATCH", `/tenants/${tenantId}`, server.adminToken, { plan: "pro" });
      expect(changed.status).toBe(200);
      await page.locator(".tier-move", { hasText: "Moving… to the dedicated tier" }).waitFor();
      await page.getByText("Writes are paused until the move completes").waitFor();
      await screenshot(page, "tier-move-01-moving");
    } finally {
      runtime.start = start;
      release();
    }
    await page.locator(".tier-move").waitFor({ state: "detached", timeout: 90_000 });
    await page.locator(".details dd", { hasText: /^dedicated$/ }).waitFor({ timeout: 30_000 });
    await page.locator('.instance-state [data-status="running"]').waitFor({ timeout: 90_000 });
    await screenshot(page, "tier-move-02-dedicated");
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
