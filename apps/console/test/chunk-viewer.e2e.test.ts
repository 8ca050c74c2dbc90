import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from "@vdb/control-plane/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, logIn, newPage } from "./browser";
import { startConsoleServer } from "./console-server";

/**
 * More chunks than two of the viewer's pages (200 each): paragraphs of ~35 tokens, chunks of at
 * most 50, so one paragraph a chunk.
 */
const PARAGRAPHS = 450;
const LATE = 430;
const RULEBOOK = Array.from({ length: PARAGRAPHS }, (_, i) =>
  i === LATE
    ? `Paragraph ${i}: the quokka enclosure closes at dusk on public holidays, and its keeper locks the gate.`
    : `Paragraph ${i} covers the ${i}th rule of the house. Guests keep the noise down after ten, return keys to the front desk and sign the book.`,
).join("\n\n");

let server: TestServer;
let browser: Browser;
let page: Page;
let tenantId = "";

async function rest(method: string, route: string, token: string, body?: unknown) {
  const response = await fetch(`${server.url}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

beforeAll(async () => {
  server = await startConsoleServer();
  const admin = server.adminToken;
  tenantId = (await rest("POST", "/tenants", admin, { slug: "rulebook", name: "Rulebook", plan: "pro" })).id;
  await rest("POST", "/launch", admin, { tenantId });
  for (;;) {
    const status = await rest("GET", `/status/${tenantId}`, admin);
    if (status.state === "running") break;
    if (status.state === "failed") throw new Error(`instance failed: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const document = await rest("POST", `/tenants/${tenantId}/documents`, admin, {
    title: "rulebook.txt",
    text: RULEBOOK,
    chunkSize: 50,
    chunkOverlap: 0,
  });
  for (;;) {
    const current = await rest("GET", `/tenants/${tenantId}/documents?limit=1`, admin);
    const status = current.items.find((item: { id: string }) => item.id === document.id)?.status;
    if (status === "ready") {
      expect(current.items[0].chunkCount).toBe(PARAGRAPHS);
      break;
    }
    if (status === "failed") throw new Error(`ingestion failed: ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  browser = await launchChromium();
  page = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  await logIn(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("the chunk viewer reads a large document a page at a time", () => {
  it("shows the first 200 chunks, then more on request, to the last", async () => {
    await page.goto(`${server.url}/tenants/${tenantId}/documents`);
    await page.getByRole("button", { name: "View chunks of rulebook.txt" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText(`200 of ${PARAGRAPHS} chunks shown`).waitFor();
    const chunks = dialog.getByRole("list", { name: "Chunks" }).locator("li");
    expect(await chunks.count()).toBe(200);
    expect(await dialog.getByText("Paragraph 250 ").count()).toBe(0);
    await dialog.getByRole("button", { name: "Show more chunks" }).click();
    await dialog.getByText(`400 of ${PARAGRAPHS} chunks shown`).waitFor();
    await dialog.getByText("Paragraph 250 covers").waitFor();
    await dialog.getByRole("button", { name: "Show more chunks" }).click();
    await dialog.getByText(`${PARAGRAPHS} of ${PARAGRAPHS} chunks shown`).waitFor();
    expect(await dialog.getByRole("button", { name: "Show more chunks" }).count()).toBe(0);
    const indexes = await chunks.evaluateAll((items) =>
      items.map((item) => Number(item.getAttribute("data-chunk-id")?.split(":").at(-1))),
    );
    expect(indexes).toEqual(Array.from({ length: PARAGRAPHS }, (_, i) => i));
    await dialog.getByRole("button", { name: "Close" }).click();
  });

  it("a citation of a chunk past the first page opens with the pages up to it read and it in view", async () => {
    await page.goto(`${server.url}/tenants/${tenantId}/chat`);
    await page.getByLabel("Your question").fill("When does the quokka enclosure close?");
    await page.getByRole("button", { name: "Ask" }).click();
    const citation = page.locator("button.citation").first();
    await citation.waitFor({ timeout: 60_000 });
    await citation.click();
    const dialog = page.getByRole("dialog");
    const focus = dialog.locator('.chunk-focus[aria-current="true"]');
    await focus.waitFor();
    expect(await focus.textContent()).toContain("quokka enclosure");
    expect(await focus.isVisible()).toBe(true);
  });
});
