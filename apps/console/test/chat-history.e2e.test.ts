import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from "@vdb/control-plane/testing";
import { api, launchUntilRunning, trpcAs } from "@vdb/control-plane/testing/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, logIn, newPage, screenshot } from "./browser";
import { startConsoleServer } from "./console-server";

let server: TestServer;
let browser: Browser;
let page: Page;
let tenantId = "";

beforeAll(async () => {
  server = await startConsoleServer();
  tenantId = (
    await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "history", name: "History", plan: "pro" },
    })
  ).body.id;
  await launchUntilRunning(server.url, server.adminToken, tenantId);
  await api(server.url, "POST", `/embed?tenantId=${tenantId}`, {
    token: server.adminToken,
    body: {
      ids: ["parking", "vacation"],
      documents: [
        "Parking is free in garage B for all staff.",
        "Employees receive 30 days of paid vacation per year.",
      ],
    },
  });
  browser = await launchChromium();
  page = await newPage(browser);
  await logIn(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function ask(question: string) {
  await page.getByLabel("Your question").fill(question);
  await page.getByRole("button", { name: "Ask" }).click();
  await page.locator('article.turn[data-streaming="false"]').filter({ hasText: question }).waitFor();
}

const history = () => page.getByRole("region", { name: "Past conversations" });

describe("chat history in the console", () => {
  it("lists past conversations and reopens one, which a follow-up continues", async () => {
    await page.goto(`${server.url}/tenants/${tenantId}/chat`);
    await history().getByText("No conversations yet.").waitFor();
    await ask("Is parking free?");
    await history().getByRole("button", { name: "Is parking free?" }).waitFor();
    await page.getByRole("button", { name: "New conversation" }).click();
    await ask("How many vacation days?");
    await history().getByRole("button", { name: "How many vacation days?" }).waitFor();
    expect(await history().getByRole("listitem").count()).toBe(2);

    await history().getByRole("button", { name: "Is parking free?" }).click();
    // The open conversation (vacation) also has one turn, so wait for the reopened one's text,
    // not for the count alone.
    const turns = page.locator("article.turn");
    await expect.poll(() => turns.first().textContent()).toContain("Is parking free?");
    expect(await turns.count()).toBe(1);
    expect(await turns.first().getByRole("list", { name: "Sources" }).textContent()).toContain("[1]");
    await screenshot(page, "chat-history-reopened");

    await ask("And for visitors?");
    const sessions = await trpcAs(server.url, server.adminToken).chat.sessions.list.query({ tenantId });
    expect(sessions.items).toHaveLength(2);
    const parking = sessions.items.find((session) => session.title.startsWith("Is parking free"));
    const stored = await trpcAs(server.url, server.adminToken).chat.sessions.get.query({
      tenantId,
      sessionId: parking!.id,
    });
    expect(stored.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual([
      "Is parking free?",
      "And for visitors?",
    ]);
  });
});
