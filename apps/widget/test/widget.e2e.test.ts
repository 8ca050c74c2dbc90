/**
 * The widget end to end: a real control plane (startTestServer) with a real tenant instance and
 * an ingested document, host pages served from other origins by node:http, and Debian Chromium.
 * Screenshots land in test-artifacts/ (git-ignored).
 */
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ingestText, seedTenant, startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { until } from "@vdb/control-plane/testing/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeServer, launchChromium, listen } from "./e2e-harness";

const WIDGET_DIR = fileURLToPath(new URL("..", import.meta.url));
const ARTIFACTS = path.join(WIDGET_DIR, "test-artifacts");
const VACATION =
  "Employees receive 30 days of paid vacation per year. Vacation requests go through the HR portal two weeks ahead.";
const PARKING = "Parking is free in garage B for all staff. Bicycles are stored in the basement.";
const AGGRESSIVE_CSS = `
* { all: unset; color: red !important; font-size: 40px !important; font-family: serif !important;
    line-height: 3 !important; letter-spacing: 4px !important; }
div, button, textarea, svg { display: none !important; }
html, body { display: block !important; background: #ffe !important; }
p { display: block !important; padding: 10px !important; border: 3px dashed blue !important; }
vdb-chat-widget { position: static !important; width: 10px !important; opacity: .1 !important; }
`;

let server: TestServer;
let browser: Browser;
let llm: { url: string; close(): Promise<void> };
let allowedHost: HostServer;
let otherHost: HostServer;
let widgetId: string;

interface HostServer {
  origin: string;
  close(): Promise<void>;
}

/** A tenant's site: `/` has the widget's tag, `/aggressive` adds hostile CSS, `/plain` has no widget. */
async function startHost(): Promise<HostServer> {
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://host");
    const withWidget = url.pathname !== "/plain" && url.pathname !== "/plain-aggressive";
    const aggressive = url.pathname.includes("aggressive");
    const tag = withWidget
      ? `<script src="${server.url}/widget.js" data-widget-id="${widgetId}" async></script>`
      : "";
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme shop</title>
<style>body{font:16px/1.5 Georgia,serif;margin:40px;color:#222}${aggressive ? AGGRESSIVE_CSS : ""}</style></head>
<body><h1>Acme shop</h1><p id="probe">Welcome to our shop. Ask the assistant about our policies.</p>${tag}</body></html>`);
  });
  const origin = await listen(http);
  return { origin, close: () => closeServer(http) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * An OpenAI-compatible model: answers with the first sentence of source [1], citing it,
 * streamed slowly in pieces so the test can watch the answer grow in the page.
 */
async function startLlmStub() {
  const http = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req)) as { model: string; messages: { content: string }[] };
    const prompt = body.messages.at(-1)?.content ?? "";
    const source = /^\[1\][^\n]*\n([^\n]*)/m.exec(prompt)?.[1] ?? "";
    const sentence = (source.split(/(?<=\.)\s/)[0] ?? "").replace(/\.$/, "");
    const pieces = ["According to ", "our policy: ", ...sentence.split(/(?<= )/), " [1]", "."];
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: "assistant", content: "" }, null));
    for (const piece of pieces) {
      res.write(chunk({ content: piece }, null));
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    res.write(chunk({}, "stop"));
    res.end("data: [DONE]\n\n");
  });
  const url = await listen(http);
  return { url, close: () => closeServer(http) };
}

async function cp<T>(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}/api/v1${pathname}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function newPage(opts: { width?: number; height?: number } = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1100, height: opts.height ?? 760 },
    ...(opts.width && opts.width < 500 ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error));
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  llm = await startLlmStub();
  server = await startTestServer({
    env: {
      WIDGET_DIST_DIR: path.join(WIDGET_DIR, "dist"),
      LLM_MODEL: "stub-model",
      LLM_BASE_URL: `${llm.url}/v1`,
      LLM_API_KEY: "sk-stub",
    },
  });
  const tenant = await seedTenant(server.services, "widget-e2e", "pro");
  allowedHost = await startHost();
  otherHost = await startHost();
  const created = await fetch(`${server.url}/trpc/widgets.create`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      tenantId: tenant.id,
      name: "Shop assistant",
      allowedOrigins: [allowedHost.origin],
      theme: { primaryColor: "#0f766e", title: "Acme help", greeting: "Hi! Ask me about Acme's policies." },
    }),
  });
  expect(created.status).toBe(200);
  widgetId = ((await created.json()) as { result: { data: { id: string } } }).result.data.id;
  expect((await cp("POST", "/launch", { tenantId: tenant.id })).status).toBeLessThan(300);
  await until(
    "the instance running",
    () => cp<{ state?: string }>("GET", `/status/${tenant.id}`),
    (status) => status.body.state === "running",
  );
  await ingestText(server, tenant.id, "Vacation policy", VACATION);
  await ingestText(server, tenant.id, "Parking", PARKING);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await allowedHost?.close();
  await otherHost?.close();
  await server?.close();
  await llm?.close();
});

describe("the widget on an allowed site", () => {
  it("answers a question, streamed, with a numbered citation, and keeps the conversation across a reload", async () => {
    const page = await newPage();
    const tokenResponse = page.waitForResponse((r) => r.url().includes("/embed/token"));
    await page.goto(allowedHost.origin);
    expect((await tokenResponse).status()).toBe(200);
    const launcher = page.locator("vdb-chat-widget .launcher");
    await expect.poll(() => launcher.getAttribute("aria-label")).toBe("Open chat: Acme help");
    await shot(page, "1-closed");
    await launcher.click();
    await expect
      .poll(() => page.locator("vdb-chat-widget .msg.bot").first().textContent())
      .toContain("Ask me about Acme");
    const input = page.getByLabel("Your question");
    await input.fill("How many days of paid vacation do employees get?");
    const chatResponse = page.waitForResponse((r) => r.url().includes(`/embed/widgets/${widgetId}/chat`));
    await input.press("Enter");
    expect((await chatResponse).headers()["content-type"]).toMatch(/text\/event-stream/);

    // Streaming: the answer is seen partly written, with the typing cursor, before it is complete.
    const answer = page.locator("vdb-chat-widget .msg.bot").last();
    await expect.poll(() => answer.textContent(), { timeout: 10_000 }).toMatch(/According to/);
    const partial = (await answer.textContent()) ?? "";
    expect(partial).not.toContain("Vacation policy");
    expect(await page.locator("vdb-chat-widget .typing").count()).toBe(1);
    await shot(page, "2-streaming");

    await expect.poll(() => answer.locator(".sources li").count(), { timeout: 20_000 }).toBe(1);
    expect(await answer.textContent()).toContain("30 days of paid vacation");
    expect(await answer.locator(".sources li").textContent()).toBe("1Vacation policy");
    expect(await answer.locator(".cite").first().textContent()).toBe("1");
    expect(await page.locator("vdb-chat-widget .typing").count()).toBe(0);
    await shot(page, "3-answered");

    await page.reload();
    await page.locator("vdb-chat-widget .launcher").click();
    const restored = page.locator("vdb-chat-widget .msg");
    await expect.poll(() => restored.count()).toBe(3);
    expect(await page.locator("vdb-chat-widget .msg.me").textContent()).toBe(
      "How many days of paid vacation do employees get?",
    );
    expect(await page.locator("vdb-chat-widget .sources li").textContent()).toBe("1Vacation policy");
    await page.context().close();
  });

  it("is usable by keyboard: focusable launcher, labelled input, Escape closes and returns focus", async () => {
    const page = await newPage();
    await page.goto(allowedHost.origin);
    await expect
      .poll(() => page.locator("vdb-chat-widget .launcher").getAttribute("aria-label"))
      .toMatch(/Acme/);
    await page.locator("vdb-chat-widget .launcher").focus();
    await page.keyboard.press("Enter");
    await expect
      .poll(() =>
        page.evaluate(() => document.querySelector("vdb-chat-widget")?.shadowRoot?.activeElement?.id),
      )
      .toBe("vdb-question");
    expect(await page.getByRole("dialog", { name: "Acme help" }).count()).toBe(1);
    await page.keyboard.press("Escape");
    expect(await page.getByRole("dialog").count()).toBe(0);
    expect(
      await page.evaluate(
        () => document.querySelector("vdb-chat-widget")?.shadowRoot?.activeElement?.className,
      ),
    ).toBe("launcher");
    await page.context().close();
  });

  it("takes the whole screen on a phone", async () => {
    const page = await newPage({ width: 390, height: 720 });
    await page.goto(allowedHost.origin);
    await page.locator("vdb-chat-widget .launcher").click();
    const box = await page.locator("vdb-chat-widget .panel").boundingBox();
    expect(box).toEqual({ x: 0, y: 0, width: 390, height: 720 });
    await page.getByLabel("Your question").fill("Is parking free?");
    await page.getByLabel("Your question").press("Enter");
    await expect
      .poll(() => page.locator("vdb-chat-widget .msg.bot .sources li").count(), { timeout: 20_000 })
      .toBe(1);
    await shot(page, "4-phone");
    await page.context().close();
  });
});

describe("the widget on a site it does not allow", () => {
  it("gets no token and says it is unavailable", async () => {
    const page = await newPage();
    // Passed through unchanged, to see the statuses: the page itself cannot read a response
    // without CORS headers, and Chromium reports such a request as failed.
    const embedCalls: { url: string; status: number; origin: string | undefined; body: string }[] = [];
    await page.route("**/embed/**", async (route) => {
      const response = await route.fetch();
      embedCalls.push({
        url: route.request().url(),
        status: response.status(),
        origin: route.request().headers().origin,
        body: await response.text(),
      });
      await route.fulfill({ response });
    });
    const warning = page.waitForEvent("console", (message) => message.type() === "warning");
    await page.goto(otherHost.origin);
    // The server's reason reaches the site's developer in the page's console (the refusal carries
    // CORS headers for this), not an opaque network failure; visitors get a plain notice.
    expect((await warning).text()).toMatch(
      new RegExp(`unavailable: This widget is not available on ${otherHost.origin}: .*allowed origins`),
    );
    await page.locator("vdb-chat-widget .launcher").click();
    await expect
      .poll(() => page.locator("vdb-chat-widget .notice").textContent())
      .toBe("Sorry, this chat is unavailable on this site right now.");
    expect(await page.getByLabel("Your question").isVisible()).toBe(false);
    expect(embedCalls.map(({ url, status, origin }) => ({ url, status, origin }))).toEqual([
      { url: `${server.url}/embed/token?widgetId=${widgetId}`, status: 403, origin: otherHost.origin },
    ]);
    expect(JSON.parse(embedCalls[0]!.body)).toMatchObject({ error: { code: "FORBIDDEN" } });
    expect(embedCalls[0]!.body).not.toMatch(/eyJ/); // no token in it
    await shot(page, "5-refused");
    await page.context().close();
  });
});

describe("the widget among hostile CSS", () => {
  const PROPERTIES = [
    "color",
    "font-size",
    "font-family",
    "display",
    "padding",
    "margin",
    "line-height",
    "border",
  ];
  const probeStyle = (page: Page) =>
    page.evaluate((properties) => {
      const probe = document.getElementById("probe") as HTMLElement;
      const style = getComputedStyle(probe);
      const body = getComputedStyle(document.body);
      return {
        probe: properties.map((property) => style.getPropertyValue(property)),
        body: properties.map((property) => body.getPropertyValue(property)),
        rect: JSON.stringify(probe.getBoundingClientRect()),
      };
    }, PROPERTIES);

  it("keeps its own look, and does not restyle the host page", async () => {
    const page = await newPage();
    await page.goto(`${allowedHost.origin}/plain-aggressive`);
    const without = await probeStyle(page);
    await page.goto(`${allowedHost.origin}/aggressive`);
    await expect
      .poll(() => page.locator("vdb-chat-widget .launcher").getAttribute("aria-label"))
      .toMatch(/Acme/);
    await page.locator("vdb-chat-widget .launcher").click();
    await page.getByLabel("Your question").fill("How many days of paid vacation?");
    await page.getByLabel("Your question").press("Enter");
    await expect
      .poll(() => page.locator("vdb-chat-widget .msg.bot .sources li").count(), { timeout: 20_000 })
      .toBe(1);
    expect(await probeStyle(page)).toEqual(without);
    expect(without.probe[0]).toBe("rgb(255, 0, 0)"); // the hostile CSS is really in force on the page

    const inside = await page.evaluate(() => {
      const root = document.querySelector("vdb-chat-widget")?.shadowRoot as ShadowRoot;
      const pick = (selector: string) => {
        const element = root.querySelector(selector) as HTMLElement;
        const style = getComputedStyle(element);
        return {
          color: style.color,
          fontSize: style.fontSize,
          display: style.display,
          background: style.backgroundColor,
          // Layout sizes: the launcher grows a little under the mouse (a transform).
          width: element.offsetWidth,
          height: element.offsetHeight,
        };
      };
      return {
        launcher: pick(".launcher"),
        panel: pick(".panel"),
        answer: pick(".msg.bot:last-child"),
        input: pick(".input"),
      };
    });
    expect(inside.launcher).toMatchObject({
      display: "flex",
      width: 56,
      height: 56,
      background: "rgb(15, 118, 110)",
    });
    expect(inside.panel).toMatchObject({
      display: "flex",
      fontSize: "14px",
      width: 370,
      color: "rgb(31, 41, 55)",
    });
    expect(inside.answer).toMatchObject({ fontSize: "14px", color: "rgb(31, 41, 55)" });
    expect(inside.input.display).toBe("block");
    await shot(page, "6-hostile-css");
    await page.context().close();
  });
});

describe("preview mode (the console's widget settings)", () => {
  it("renders a given theme inside a container, with canned replies and no network", async () => {
    const page = await newPage();
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(`${otherHost.origin}/plain`);
    await page.evaluate((src) => {
      const box = document.createElement("section");
      box.id = "preview";
      box.style.cssText = "position:relative;width:420px;height:640px;border:1px solid #ccc;margin-top:20px";
      document.body.append(box);
      const w = window as unknown as { VDBWidget?: ((...args: unknown[]) => void) & { q?: unknown[] } };
      // The documented snippet, before the loader.
      w.VDBWidget =
        w.VDBWidget ||
        ((...args: unknown[]) => {
          const queue = w.VDBWidget as { q?: unknown[] };
          queue.q = queue.q || [];
          queue.q.push(args);
        });
      w.VDBWidget("preview", {
        container: box,
        open: true,
        theme: { primaryColor: "#b45309", title: "Preview title", greeting: "Hello from the preview" },
      });
      const script = document.createElement("script");
      script.src = src;
      script.setAttribute("data-preview", "");
      document.body.append(script);
    }, `${server.url}/widget.js`);
    const panel = page.locator("#preview vdb-chat-widget .panel");
    await expect.poll(() => panel.count()).toBe(1);
    expect(await panel.locator(".title").textContent()).toBe("Preview title");
    await page.getByLabel("Your question").fill("Does it work?");
    await page.getByLabel("Your question").press("Enter");
    await expect.poll(() => panel.locator(".sources li").textContent()).toBe("1Example document");
    // Live update from the settings form.
    await page.evaluate(() =>
      (window as unknown as { VDBWidget: (c: string, o: unknown) => void }).VDBWidget("preview", {
        container: document.getElementById("preview"),
        theme: { primaryColor: "#be185d", position: "bottom-left" },
      }),
    );
    const header = await panel.locator(".header").evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(header).toBe("rgb(190, 24, 93)");
    expect(await panel.locator(".title").textContent()).toBe("Preview title");
    expect(await panel.locator(".msg.me").textContent()).toBe("Does it work?");
    const boxRect = await page.locator("#preview").boundingBox();
    const panelRect = await panel.boundingBox();
    expect(panelRect!.x).toBeGreaterThanOrEqual(boxRect!.x);
    expect(panelRect!.x + panelRect!.width).toBeLessThanOrEqual(boxRect!.x + boxRect!.width);
    await shot(page, "7-preview");
    expect(requests.filter((url) => url.includes("/embed/"))).toEqual([]);
    await page.context().close();
  });
});
