import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from "@vdb/control-plane/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, logIn, markDocument, newPage, screenshot } from "./browser";
import { startConsoleServer } from "./console-server";

const TEXTS: [string, string][] = [
  ["Vacation", "Employees get thirty days of paid vacation every year, booked through the portal."],
  ["Parking", "Parking is free in garage B for staff and visitors with a badge."],
];

let server: TestServer;
let browser: Browser;
let page: Page;
let keepsake = "";
let spare = "";
const pageErrors: string[] = [];

async function rest(method: string, route: string, body?: unknown) {
  const response = await fetch(`${server.url}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function launchedTenant(slug: string, name: string): Promise<string> {
  const id = (await rest("POST", "/tenants", { slug, name, plan: "pro" })).id as string;
  await rest("POST", "/launch", { tenantId: id });
  for (;;) {
    const status = await rest("GET", `/status/${id}`);
    if (status.state === "running") return id;
    if (status.state === "failed") throw new Error(`instance failed: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function titles(tenantId: string): Promise<string[]> {
  const listed = await rest("GET", `/tenants/${tenantId}/documents`);
  return listed.items.map((doc: { title: string }) => doc.title).sort();
}

/**
 * Holds the blob store's `method` for keys of record parts until `release`: a backup (writing them)
 * or a restore (reading them) stays visibly in progress while the test looks at the screen.
 */
function holdRecordParts(method: "put" | "get"): () => void {
  const blobs = server.services.blobs;
  const original = blobs[method];
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  (blobs as any)[method] = async (key: string, ...rest: any[]) => {
    if (key.includes("/records-")) await held;
    return (original as any).call(blobs, key, ...rest);
  };
  return () => {
    blobs[method] = original as never;
    release();
  };
}

beforeAll(async () => {
  server = await startConsoleServer();
  keepsake = await launchedTenant("keepsake", "Keepsake");
  spare = await launchedTenant("spare", "Spare");
  for (const [title, text] of TEXTS) {
    const document = await rest("POST", `/tenants/${keepsake}/documents`, { title, text });
    for (;;) {
      const listed = await rest("GET", `/tenants/${keepsake}/documents`);
      const status = listed.items.find((item: { id: string }) => item.id === document.id)?.status;
      if (status === "ready") break;
      if (status === "failed") throw new Error(`ingestion failed: ${JSON.stringify(listed)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  browser = await launchChromium();
  page = await newPage(browser, {
    viewport: { width: 1280, height: 900 },
    timeoutMs: 60_000,
    errors: pageErrors,
  });
  await logIn(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("the console's backups screen", () => {
  it("backs up, restores into another tenant and into the same one, and deletes, with live progress", async () => {
    await page.goto(`${server.url}/tenants/${keepsake}`);
    await page.getByRole("link", { name: "Backups" }).click();
    await page.getByText("No backups yet.").waitFor();
    // Everything below happens without a page load: progress and outcomes arrive live.
    const notReloaded = await markDocument(page);

    // A backup, held while it writes its records: the row shows it running with a progress bar.
    let release = holdRecordParts("put");
    try {
      await page.getByRole("button", { name: "Back up now" }).click();
      const running = page.locator('tr[data-backup-id]:has([data-status="running"])');
      await running.getByRole("progressbar").waitFor();
      await screenshot(page, "backups-01-running");
    } finally {
      release();
    }
    const row = page.locator("tr[data-backup-id]");
    await row.locator('[data-status="completed"]').waitFor();
    expect(await row.count()).toBe(1);
    const cells = await row.locator("td").allTextContents();
    // Taken, status, size, collections, records, documents, chunks.
    expect(cells.slice(3, 7)).toEqual(["1", "2", "2", "2"]);
    expect(cells[2]).toMatch(/^\d+(\.\d)? (B|KB|MB)$/);

    // Restore into another tenant, held while it reads the records: its progress shows, then the outcome.
    await page.getByRole("button", { name: /^Restore backup of / }).click();
    let dialog = page.getByRole("dialog");
    await dialog.getByLabel(/^Another tenant/).check();
    await dialog.getByLabel("Target tenant").selectOption({ label: "Spare (spare)" });
    release = holdRecordParts("get");
    try {
      await dialog.getByRole("button", { name: "Restore into that tenant" }).click();
      const panel = page.locator("section[data-restore-id]");
      await panel.getByText("Restoring: 0 of 2 records").waitFor();
      expect(await panel.getByRole("progressbar", { name: "Restore progress" }).isVisible()).toBe(true);
      await screenshot(page, "backups-02-restoring");
    } finally {
      release();
    }
    await page.getByText("Restored 2 records.").waitFor();
    expect(await titles(spare)).toEqual(await titles(keepsake));
    await page.getByRole("button", { name: "Dismiss" }).click();

    // One wrong delete in the tenant itself, then the backup puts it back.
    const listed = await rest("GET", `/tenants/${keepsake}/documents`);
    await rest("DELETE", `/tenants/${keepsake}/documents/${listed.items[0].id}`);
    expect(await titles(keepsake)).toHaveLength(1);
    await page.getByRole("button", { name: /^Restore backup of / }).click();
    dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Replace this tenant's data" }).click();
    await page.getByText("Restored 2 records.").waitFor();
    expect(await titles(keepsake)).toEqual(TEXTS.map(([title]) => title).sort());
    await page.getByRole("button", { name: "Dismiss" }).click();

    // Delete: gone from the list.
    await page.getByRole("button", { name: /^Delete backup of / }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete backup" }).click();
    await page.getByText("No backups yet.").waitFor();
    expect((await rest("GET", `/tenants/${keepsake}/backups`)).items).toEqual([]);

    expect(await notReloaded()).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
