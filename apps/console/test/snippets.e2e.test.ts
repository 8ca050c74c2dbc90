import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from "@vdb/control-plane/testing";
import { api, launchUntilRunning } from "@vdb/control-plane/testing/http";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, logIn, screenshot } from "./browser";
import { CONSOLE_ROOT } from "./build-console";
import { startConsoleServer } from "./console-server";

const run = promisify(execFile);

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let tenantId = "";
let secret = "";

/** Runs copied shell code as a user would paste it into bash, with the key exported. */
async function runInShell(code: string): Promise<string> {
  const { stdout } = await run("bash", ["-c", code], { env: { ...process.env, VDB_API_KEY: secret } });
  return stdout;
}

/**
 * Runs copied TypeScript as a user would in their own project: a module file beside this
 * package's `node_modules` (where `@vdb/client` resolves to its build), run by tsx, with the key
 * in the environment.
 */
async function runTypeScript(code: string): Promise<string> {
  const directory = await mkdtemp(path.join(CONSOLE_ROOT, "test-artifacts", "snippet-"));
  try {
    const file = path.join(directory, "snippet.mts");
    await writeFile(file, code);
    const { stdout } = await run(process.execPath, ["--import", "tsx", file], {
      cwd: CONSOLE_ROOT,
      env: { ...process.env, VDB_API_KEY: secret },
    });
    return stdout;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  server = await startConsoleServer();
  tenantId = (
    await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "snippets", name: "Snippets", plan: "pro" },
    })
  ).body.id;
  await launchUntilRunning(server.url, server.adminToken, tenantId);
  await api(server.url, "POST", `/embed?tenantId=${tenantId}`, {
    token: server.adminToken,
    body: { ids: ["parking"], documents: ["Parking is free in garage B for all staff."] },
  });
  await mkdir(path.join(CONSOLE_ROOT, "test-artifacts"), { recursive: true });
  browser = await launchChromium();
  context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await logIn(page, server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const clipboard = () => page.evaluate(() => navigator.clipboard.readText());

describe("copy-paste code in the console", () => {
  it("shows curl, TypeScript and Python snippets for a new key, with this server's address and no secret; curl, TypeScript and Python run as pasted", async () => {
    await page.goto(`${server.url}/tenants/${tenantId}/keys`);
    await page.getByLabel("Key name").fill("snippet key");
    await page.getByLabel("write").check();
    await page.getByRole("button", { name: "Create key" }).click();
    secret = await page.getByTestId("key-secret").inputValue();
    const curl = (await page.getByTestId("snippet-curl").textContent()) ?? "";
    expect(curl).toContain(`${server.url}/api/v1/search`);
    expect(curl).not.toContain(secret);
    await page.getByRole("tab", { name: "TypeScript (@vdb/client)" }).click();
    const typescript = (await page.getByTestId("snippet-typescript").textContent()) ?? "";
    expect(typescript).toContain(`url: "${server.url}"`);
    expect(typescript).toContain(tenantId);
    await page.getByRole("tab", { name: "Python", exact: true }).click();
    const python = (await page.getByTestId("snippet-python").textContent()) ?? "";
    expect(python).toContain(`BASE = "${server.url}/api/v1"`);
    expect(python).not.toContain(secret);
    await page.getByRole("tab", { name: "Python (chromadb)" }).click();
    const chromadb = (await page.getByTestId("snippet-chromadb").textContent()) ?? "";
    expect(chromadb).toContain(`port=${new URL(server.url).port}`);
    expect(chromadb).not.toContain(secret);
    await screenshot(page, "key-snippets");

    // The curl snippet runs as pasted, once the placeholder line holds the secret.
    await page.getByRole("tab", { name: "curl" }).click();
    await page.getByRole("button", { name: "Copy code" }).click();
    const copied = await clipboard();
    expect(copied).toBe(curl);
    const output = await runInShell(copied.replace("<the secret above>", secret));
    expect(output).toContain('"hello-1"');
    expect(output).toContain('"results"');

    // So does the TypeScript one, as a module of a project that depends on @vdb/client (built).
    await page.getByRole("tab", { name: "TypeScript (@vdb/client)" }).click();
    await page.getByRole("button", { name: "Copy code" }).click();
    expect(await clipboard()).toBe(typescript);
    const printed = await runTypeScript(typescript);
    expect(printed).toMatch(/^\d+ \[/m); // page.count, page.records
    expect(printed).toMatch(/^-?\d+\.\d{3} parking Parking is free in garage B/m);

    // And the Python one, with nothing but python3 (the chromadb one needs PyPI, which CI lacks).
    await page.getByRole("tab", { name: "Python", exact: true }).click();
    await page.getByRole("button", { name: "Copy code" }).click();
    expect(await clipboard()).toBe(python);
    const { stdout } = await run("python3", ["-c", python], { env: { ...process.env, VDB_API_KEY: secret } });
    expect(stdout).toMatch(/^-?\d+\.\d{3} hello-1 Hello from VDB$/m);
    expect(stdout).toMatch(/^-?\d+\.\d{3} parking Parking is free in garage B/m);
  });

  it("copies a search from the playground as curl that returns the same hits", async () => {
    await page.goto(`${server.url}/tenants/${tenantId}/search`);
    await page.getByLabel("Query").fill("where do I park?");
    await page.getByRole("button", { name: "Copy as curl" }).click();
    const copied = await clipboard();
    expect(copied).toContain(`${server.url}/api/v1/search`);
    const answer = JSON.parse(await runInShell(copied));
    expect(answer.results.map((hit: { id: string }) => hit.id)).toContain("parking");
  });

  it("copies a chat question as curl that gets an answer with citations", async () => {
    await page.goto(`${server.url}/tenants/${tenantId}/chat`);
    await page.getByLabel("Your question").fill("Is parking free?");
    await page.getByRole("button", { name: "Copy as curl" }).click();
    const copied = await clipboard();
    expect(copied).toContain(`${server.url}/api/v1/chat`);
    const answer = JSON.parse(await runInShell(copied));
    expect(answer.citations.length).toBeGreaterThan(0);
    expect(answer.answer.length).toBeGreaterThan(0);
  });
});
