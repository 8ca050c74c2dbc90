import type { TestServer } from "@vdb/control-plane/testing";
import { api } from "@vdb/control-plane/testing/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, markDocument, newPage, screenshot } from "./browser";
import { openRunningTenant, startConsoleServer } from "./console-server";

const IDLE_MS = 600_000;

let server: TestServer;
let browser: Browser;
let page: Page;
// The control plane's clock: moved past the idle time (and back) instead of waiting it out.
let offsetMs = 0;
const pageErrors: string[] = [];

/** A REST call under /api/v1 as \`token\`: JSON in, parsed JSON out, whatever the status. */
const call = (method: string, pathname: string, token: string, body?: unknown) =>
  api(server.url, method, pathname, { token, body });

beforeAll(async () => {
  server = await startConsoleServer({
    env: {
      INSTANCE_SLEEP_AFTER_IDLE_MS: String(IDLE_MS),
    },
    now: () => Date.now() + offsetMs,
  });
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

describe("the console shows an instance sleeping and waking, live", () => {
  it("running → sleeping when idle → waking on a search → running, without a reload", async () => {
    const { key } = await openRunningTenant(page, server, "sleepy", "starter");
    const notReloaded = await markDocument(page);
    const embedded = await call("POST", "/embed", key, {
      ids: ["a"],
      documents: ["A record kept while the instance sleeps."],
    });
    expect(embedded.status).toBe(200);

    offsetMs = IDLE_MS + 1_000;
    try {
      await page.locator('.instance-state [data-status="sleeping"]').waitFor();
    } finally {
      offsetMs = 0;
    }
    await page.getByText("the next request wakes it").waitFor();
    await page.getByRole("button", { name: "Wake" }).waitFor();
    await screenshot(page, "sleep-01-sleeping");

    // Hold the instance's start until the console has shown `waking`: it passes by quickly otherwise.
    const { runtime } = server.services;
    const start = runtime.start;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    runtime.start = async (spec) => {
      await held;
      return start.call(runtime, spec);
    };
    let searched: Promise<{ status: number }> | null = null;
    try {
      searched = call("POST", "/search", key, { query: "a record", nResults: 1 });
      await page.locator('.instance-state [data-status="waking"]').waitFor();
      await screenshot(page, "sleep-02-waking");
    } finally {
      runtime.start = start;
      release();
    }
    await page.locator('.instance-state [data-status="running"]').waitFor({ timeout: 90_000 });
    expect((await searched).status).toBe(200);
    expect(await notReloaded()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
