import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from "@vdb/control-plane/testing";
import { api, launchUntilRunning, tenantWithKey, trpcAs } from "@vdb/control-plane/testing/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessibilityReport, launchChromium, logIn, newPage, screenshot } from "./browser";
import { startConsoleServer } from "./console-server";

let server: TestServer;
let browser: Browser;
let page: Page;
let tenantId = "";
let key = "";
let databaseId = "";

/** Writes one record with Chroma's own REST API through the gateway, as the chromadb client does. */
async function writeThroughGateway() {
  const base = `${server.url}/api/v2/tenants/default_tenant/databases/default_database/collections`;
  const headers = { "x-chroma-token": key, "content-type": "application/json" };
  const created = await fetch(base, {
    method: "POST",
    headers,
    body: JSON.stringify({ name: "from-gateway", get_or_create: true }),
  });
  expect(created.status).toBe(200);
  const { id } = (await created.json()) as { id: string };
  const added = await fetch(`${base}/${id}/add`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      ids: ["gw-1"],
      embeddings: [[0.1, 0.2, 0.3, 0.4]],
      documents: ["Written by the chromadb client"],
      metadatas: [{ source: "gateway" }],
    }),
  });
  expect(added.status).toBeLessThan(300);
}

beforeAll(async () => {
  server = await startConsoleServer();
  ({ tenantId, key } = await tenantWithKey(server.url, server.adminToken, "data-browser"));
  await launchUntilRunning(server.url, server.adminToken, tenantId);
  const embedded = await api(server.url, "POST", "/embed", {
    token: key,
    body: {
      ids: Array.from({ length: 25 }, (_, i) => `note-${String(i).padStart(2, "0")}`),
      documents: Array.from({ length: 25 }, (_, i) => `Note number ${i}`),
      metadatas: Array.from({ length: 25 }, (_, i) => ({ team: i % 5 === 0 ? "red" : "blue" })),
    },
  });
  expect(embedded.status).toBe(200);
  await writeThroughGateway();
  databaseId = (
    await trpcAs(server.url, server.adminToken).databases.create.mutate({
      tenantId,
      name: "handbook",
      model: "hash",
      dimension: 16,
    })
  ).id;
  browser = await launchChromium();
  page = await newPage(browser);
  await logIn(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const collectionRow = (name: string) => page.locator(`tr[data-collection="${name}"]`);
const recordIds = () =>
  page.locator("tr[data-record-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-record-id")));

describe("the console's data browser", () => {
  it("lists the instance's collections with counts, the named database among them", async () => {
    await page.goto(`${server.url}/tenants/${tenantId}/data`);
    await collectionRow("default").waitFor();
    expect(await collectionRow("default").textContent()).toContain("25");
    expect(await collectionRow("from-gateway").textContent()).toContain("1");
    expect(await collectionRow("handbook").textContent()).toContain(databaseId);
    expect((await accessibilityReport(page)).unlabelled).toEqual([]);
  });

  it("shows a record written through the Chroma gateway", async () => {
    await page.getByRole("button", { name: "Browse from-gateway" }).click();
    await page.locator('tr[data-record-id="gw-1"]').waitFor();
    expect(await page.locator('tr[data-record-id="gw-1"]').textContent()).toContain(
      "Written by the chromadb client",
    );
  });

  it("pages through records, gets one by id and filters by metadata", async () => {
    await page.getByRole("button", { name: "Browse default" }).click();
    await page.getByText("Records 1–20 · 25 in the collection").waitFor();
    const firstPage = await recordIds();
    expect(firstPage).toHaveLength(20);
    await page
      .getByRole("navigation", { name: "Records pages" })
      .getByRole("button", { name: "Next" })
      .click();
    await page.getByText("Records 21–25 · 25 in the collection").waitFor();
    const secondPage = await recordIds();
    expect(new Set([...firstPage, ...secondPage]).size).toBe(25);

    await page.getByLabel("Record ids").fill("note-07, note-08");
    await page.getByRole("button", { name: "Show records" }).click();
    await page.getByText("Records 1–2 matching").waitFor();
    expect((await recordIds()).sort()).toEqual(["note-07", "note-08"]);

    await page.getByLabel("Record ids").fill("");
    await page.getByRole("button", { name: "Add condition" }).click();
    await page.getByLabel("Condition 1 field").fill("team");
    await page.getByLabel("Condition 1 value").fill("red");
    await page.getByRole("button", { name: "Show records" }).click();
    await page.getByText("Records 1–5 matching").waitFor();
    expect((await recordIds()).sort()).toEqual(["note-00", "note-05", "note-10", "note-15", "note-20"]);
    await screenshot(page, "data-filtered");
  });

  it("deletes selected records, and they are gone from the instance", async () => {
    await page.getByLabel("Select record note-00").check();
    await page.getByLabel("Select record note-05").check();
    await page.getByRole("button", { name: "Delete selected (2)" }).click();
    await page.getByRole("button", { name: "Delete records" }).click();
    await page.getByText("Records 1–3 matching · 23 in the collection").waitFor();
    const left = await api(server.url, "POST", "/records", {
      token: key,
      body: { ids: ["note-00", "note-05", "note-10"] },
    });
    expect(left.body.records.map((r: { id: string }) => r.id)).toEqual(["note-10"]);
    // The collections' counts refresh after the delete, without a reload (a query of their own).
    await expect.poll(() => collectionRow("default").textContent()).toContain("23");
  });
});
