/**
 * The widget's embed token runs out while a visitor is on the page, against a real control plane
 * whose tokens live 5 s (EMBED_TOKEN_TTL_SECONDS, its minimum), in Debian Chromium. The visitor
 * never notices: the core refreshes the token early, or, when that did not happen in time, takes
 * the 401, fetches a new token and retries once. Answers are extractive (no LLM configured).
 * Time is moved, not waited for: the control plane's clock (which signs and checks the tokens) and
 * the page's (Playwright's clock, which fires the widget's refresh timer).
 */
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ingestText, seedTenant, startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { until } from "@vdb/control-plane/testing/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeServer, launchChromium, listen } from "./e2e-harness";

const WIDGET_DIR = fileURLToPath(new URL("..", import.meta.url));
const TOKEN_TTL_SECONDS = 5;
/** How far the control plane's clock moves: past the first token's expiry. */
const PAST_EXPIRY_MS = TOKEN_TTL_SECONDS * 1_000 + 1_500;
/**
 * How far the page's clock moves in the first test: past 80 % of the token's life (where the
 * widget refreshes it), short of its end. (With the wall clock's own pace since the token came, a
 * widget that refreshed late would also get there: not here.)
 */
const PAST_EARLY_REFRESH_MS = TOKEN_TTL_SECONDS * 900;
const VACATION =
  "Employees receive 30 days of paid vacation per year. Vacation requests go through the HR portal two weeks ahead.";

let server: TestServer;
let browser: Browser;
let host: { origin: string; close(): Promise<void> };
let widgetId: string;
/** The control plane's clock: moved forward instead of waiting a token's life out. */
let offsetMs = 0;

async function cp<T>(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** The visitor's page: every `/embed/` response it got, in order, as `route status`. */
async function openWidget(opts: { isRefreshTimerLost?: boolean } = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error));
  // The page's timers on a clock the test can move (it runs at the wall clock's pace meanwhile).
  await page.clock.install();
  if (opts.isRefreshTimerLost) {
    // As when a phone locks or a laptop sleeps: the page's long timers (the widget's only one is
    // its early refresh) never fire, so the token it holds simply runs out.
    await page.addInitScript(() => {
      const setTimeoutOfPage = window.setTimeout;
      window.setTimeout = ((handler: TimerHandler, delay?: number, ...args: unknown[]) =>
        (delay ?? 0) >= 1_000 ? 0 : setTimeoutOfPage(handler, delay, ...args)) as typeof window.setTimeout;
    });
  }
  const embedResponses: string[] = [];
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith("/embed/")) return;
    const route = url.pathname.replace(`/widgets/${widgetId}`, "");
    embedResponses.push(`${response.request().method()} ${route} ${response.status()}`);
  });
  let tokenRequests = 0;
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/embed/token") tokenRequests++;
  });
  await page.goto(host.origin);
  await page.locator("vdb-chat-widget .launcher").click();
  await expect.poll(() => page.locator("vdb-chat-widget .msg.bot").count()).toBe(1); // the greeting
  return { page, embedResponses, tokenRequests: () => tokenRequests };
}

/** Asks a question and waits for the complete answer; returns its text. */
async function ask(page: Page, question: string): Promise<string> {
  const answers = page.locator("vdb-chat-widget .msg.bot, vdb-chat-widget .msg.error");
  const before = await answers.count();
  await page.getByLabel("Your question").fill(question);
  await page.getByLabel("Your question").press("Enter");
  const answer = answers.nth(before);
  await expect
    .poll(async () => (await answer.count()) === 1 && (await answer.locator(".typing").count()) === 0, {
      timeout: 20_000,
    })
    .toBe(true);
  return (await answer.textContent()) ?? "";
}

beforeAll(async () => {
  server = await startTestServer({
    now: () => Date.now() + offsetMs,
    env: {
      WIDGET_DIST_DIR: path.join(WIDGET_DIR, "dist"),
      EMBED_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS),
    },
  });
  const tenant = await seedTenant(server.services, "widget-refresh", "pro");
  const http = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title></head>
<body><h1>Acme</h1><script src="${server.url}/widget.js" data-widget-id="${widgetId}" async></script></body></html>`);
  });
  host = { origin: await listen(http), close: () => closeServer(http) };
  const created = await cp<{ result: { data: { id: string } } }>("POST", "/trpc/widgets.create", {
    tenantId: tenant.id,
    name: "Refresh",
    allowedOrigins: [host.origin],
  });
  expect(created.status).toBe(200);
  widgetId = created.body.result.data.id;
  expect((await cp("POST", "/api/v1/launch", { tenantId: tenant.id })).status).toBeLessThan(300);
  await until(
    "the instance running",
    () => cp<{ state?: string }>("GET", `/api/v1/status/${tenant.id}`),
    (status) => status.body.state === "running",
  );
  await ingestText(server, tenant.id, "Vacation policy", VACATION);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await server?.close();
});

describe("an embed token that runs out while the visitor is on the page", () => {
  it("is refreshed before it expires: the next question is answered, nothing is refused", async () => {
    const { page, embedResponses, tokenRequests } = await openWidget();
    expect(await ask(page, "How many days of paid vacation do employees get?")).toContain("30 days");
    expect(tokenRequests()).toBe(1);

    // The first token is dead on the control plane's clock; on the page's, its refresh is due.
    offsetMs += PAST_EXPIRY_MS;
    await page.clock.fastForward(PAST_EARLY_REFRESH_MS);
    await expect.poll(tokenRequests).toBeGreaterThanOrEqual(2); // refreshed at 80% of its life, unasked

    const second = await ask(page, "How are vacation requests made?");
    expect(second).toContain("HR portal");
    expect(await page.locator("vdb-chat-widget .msg.error").count()).toBe(0);
    expect(await page.locator("vdb-chat-widget .msg.bot .sources li").count()).toBe(2);
    // Every request succeeded: the widget never used an expired token.
    expect(embedResponses.every((entry) => entry.endsWith(" 200"))).toBe(true);
    expect(embedResponses.filter((entry) => entry.startsWith("POST /embed/chat"))).toHaveLength(2);
    await page.context().close();
  });

  it("after a 401 for an expired token, gets a new one and retries once, unseen by the visitor", async () => {
    const { page, embedResponses, tokenRequests } = await openWidget({ isRefreshTimerLost: true });
    expect(await ask(page, "How many days of paid vacation do employees get?")).toContain("30 days");
    const afterFirst = embedResponses.length;

    offsetMs += PAST_EXPIRY_MS;
    await page.clock.fastForward(PAST_EXPIRY_MS);
    expect(tokenRequests()).toBe(1); // no early refresh this time

    const second = await ask(page, "How are vacation requests made?");
    expect(second).toContain("HR portal");
    expect(await page.locator("vdb-chat-widget .msg.error").count()).toBe(0);
    expect(embedResponses.slice(afterFirst)).toEqual([
      "POST /embed/chat 401",
      "POST /embed/token 200",
      "POST /embed/chat 200",
    ]);

    // Still the same visitor and conversation: after a reload both questions are there.
    await page.reload();
    await page.locator("vdb-chat-widget .launcher").click();
    await expect.poll(() => page.locator("vdb-chat-widget .msg.me").count()).toBe(2);
    await page.context().close();
  });
});
