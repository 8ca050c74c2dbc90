import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { isReservedPath } from "./serve-console";

const INDEX =
  '<!doctype html><html><body><div id="root"></div><script src="/assets/app-1a2b.js"></script></body></html>';

let server: TestServer;
/** Holds the console's directory and, beside it, a file a path traversal would reach. */
let root: string;
let consoleDir: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "vdb-console-"));
  consoleDir = path.join(root, "console");
  mkdirSync(path.join(consoleDir, "assets"), { recursive: true });
  writeFileSync(path.join(consoleDir, "index.html"), INDEX);
  writeFileSync(path.join(consoleDir, "assets", "app-1a2b.js"), "console.log('console');");
  writeFileSync(path.join(root, "vdb-console-secret.txt"), "outside");
  server = await startTestServer({ env: { CONSOLE_DIR: consoleDir } });
});

afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("the control plane serves the built console", () => {
  it("answers / and client-side routes with index.html", async () => {
    for (const route of ["/", "/login", "/tenants/ten_00000000000000000000/keys"]) {
      const response = await fetch(`${server.url}${route}`);
      expect(response.status, route).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/html");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(await response.text()).toBe(INDEX);
    }
  });

  it("serves hashed assets with a long cache lifetime, and a missing asset is a 404", async () => {
    const asset = await fetch(`${server.url}/assets/app-1a2b.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("text/javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(await asset.text()).toContain("console");
    expect((await fetch(`${server.url}/assets/gone-9z9z.js`)).status).toBe(404);
  });

  it("never serves a file outside its directory", async () => {
    const response = await fetch(`${server.url}/..%2fvdb-console-secret.txt`);
    expect(await response.text()).not.toContain("outside");
  });

  it("leaves the APIs, health, metrics, JWKS and the gateway alone", async () => {
    const unknownApi = await fetch(`${server.url}/api/v1/no-such-route`);
    expect(unknownApi.status).toBe(404);
    expect(await unknownApi.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect(await (await fetch(`${server.url}/health`)).json()).toMatchObject({ status: "ok" });
    expect((await fetch(`${server.url}/metrics`)).headers.get("content-type")).toContain("text/plain");
    expect(await (await fetch(`${server.url}/.well-known/jwks.json`)).json()).toHaveProperty("keys");
    const trpc = await fetch(`${server.url}/trpc/plans`);
    expect(await trpc.json()).toHaveProperty("result");
  });

  it("reserves the widget's and the APIs' paths", () => {
    for (const reserved of [
      "/api/v1/x",
      "/api/v2/heartbeat",
      "/trpc/a",
      "/widget.js",
      "/widget/x",
      "/embed/t",
    ]) {
      expect(isReservedPath(reserved), reserved).toBe(true);
    }
    for (const consoleRoute of ["/", "/login", "/tenants", "/audit"]) {
      expect(isReservedPath(consoleRoute), consoleRoute).toBe(false);
    }
  });
});

describe("without a built console", () => {
  it("says how to build it at / and stays a JSON 404 elsewhere", async () => {
    const bare = await startTestServer({ env: { CONSOLE_DIR: path.join(consoleDir, "missing") } });
    try {
      const root = await fetch(`${bare.url}/`);
      expect(root.status).toBe(503);
      expect(await root.text()).toContain("pnpm --filter @vdb/console build");
      expect((await fetch(`${bare.url}/tenants`)).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
