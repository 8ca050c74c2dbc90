import type { TestServer } from "@vdb/control-plane/testing";
import { api } from "@vdb/control-plane/testing/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, markDocument, newPage, screenshot } from "./browser";
import { openRunningTenant, startConsoleServer } from "./console-server";

let server: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** A REST call under /api/v1 as \`token\`: JSON in, parsed JSON out, whatever the status. */
const call = (method: string, pathname: string, token: string, body?: unknown) =>
  api(server.url, method, pathname, { token, body });

beforeAll(async () => {
  server = await startConsoleServer();
  browser = await launchChromium();
  page = await newPage(browser, {
    viewport: { width: 1280, height: 900 },
    timeoutMs: 60_000,
    errors: pageErrors,
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("the console shows a tenant moving between tiers, live", () => {
  it("shared → moving… (records copied) → dedicated, without a reload", async () => {
    const { tenantId, key } = await openRunningTenant(page, server, "mover", "free");
    await page.getByText("shared: pool").waitFor();
    const notReloaded = await markDocument(page);
    const embedded = await call("POST", "/embed", key, {
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
    expect(await notReloaded()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
