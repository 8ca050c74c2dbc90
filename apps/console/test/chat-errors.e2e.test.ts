import type { TestServer } from "@vdb/control-plane/testing";
import { api } from "@vdb/control-plane/testing/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshot } from "./browser";
import { startConsoleServer } from "./console-server";

let server: TestServer;
let browser: Browser;
let page: Page;
let tenantId = "";
const streamRequests: string[] = [];

beforeAll(async () => {
  // An instance that can never start (its model does not exist): it is wanted running, so the
  // server refuses chat with SERVICE_UNAVAILABLE ("try again shortly"), the code tRPC's
  // subscription link retries on its own.
  server = await startConsoleServer({
    env: {
      INSTANCE_MODEL: "no-such-model",
    },
  });
  const tenant = await api(server.url, "POST", "/tenants", {
    token: server.adminToken,
    body: { slug: "no-answers", name: "No Answers", plan: "pro" },
  });
  expect(tenant.status).toBe(201);
  tenantId = tenant.body.id;
  const launched = await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  expect(launched.status).toBeLessThan(300);

  browser = await launchChromium();
  const context = await browser.newContext();
  await context.addInitScript((token) => localStorage.setItem("vdb.session", token), server.adminToken);
  // Every EventSource the page opens, kept where the test can read its state.
  await context.addInitScript(() => {
    const Native = window.EventSource;
    const opened: EventSource[] = [];
    (window as unknown as { openedEventSources: EventSource[] }).openedEventSources = opened;
    window.EventSource = class extends Native {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        opened.push(this);
      }
    };
  });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on("request", (request) => {
    if (request.url().includes("/trpc/chat.stream")) streamRequests.push(request.url());
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("the console's chat when the tenant's instance cannot answer", () => {
  it("ends the turn with the server's reason after exactly one request", async () => {
    await page.goto(`${server.url}/tenants/${tenantId}/chat`);
    await page.getByLabel("Your question").fill("How many vacation days do we get?");
    await page.getByRole("button", { name: "Ask" }).click();
    const error = page.locator(".turn .field-error");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/instance/i);
    expect(await page.locator('.turn[data-streaming="true"]').count()).toBe(0);
    // Left open, the browser's EventSource would ask again every few seconds by itself (its own
    // timer, which no page clock drives). Closed, it never sends again: the turn closed it.
    const chatStreams = await page.evaluate(() =>
      (window as unknown as { openedEventSources: EventSource[] }).openedEventSources
        .filter((source) => source.url.includes("/trpc/chat.stream"))
        .map((source) => source.readyState),
    );
    expect(chatStreams).toEqual([2]); // EventSource.CLOSED
    expect(streamRequests).toHaveLength(1);
    expect(await page.getByRole("button", { name: "Ask" }).isEnabled()).toBe(true);
    await screenshot(page, "chat-instance-unavailable");
  });
});
