import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./testing";
import { api } from "./testing/http";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.close());

describe("operational endpoints", () => {
  it("/health reports the store", async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", store: server.services.store.kind });
  });

  it("/metrics exposes request counters in Prometheus format", async () => {
    await fetch(`${server.url}/health`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/vdb_http_requests_total\{method="GET",route="\/health",status="200"\} \d+/);
    expect(text).toContain("vdb_http_request_duration_seconds_bucket");
  });

  it("echoes a sane X-Request-Id, and mints one otherwise", async () => {
    const given = await fetch(`${server.url}/health`, { headers: { "x-request-id": "trace-123" } });
    expect(given.headers.get("x-request-id")).toBe("trace-123");
    const minted = await fetch(`${server.url}/health`, {
      headers: { "x-request-id": "bad id\twith spaces" },
    });
    expect(minted.headers.get("x-request-id")).toMatch(/^req_/);
    const failed = await api(server.url, "GET", "/tenants", { headers: { "x-request-id": "trace-456" } });
    expect(failed.body.error.requestId).toBe("trace-456");
  });

  it("serves an OpenAPI document and an interactive docs page from the same schemas", async () => {
    const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/tenants",
      "/tenants/{tenantId}",
      "/tenants/{tenantId}/keys",
      "/generate-token",
      "/provision",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const createBody = doc.paths["/tenants"].post.requestBody.content["application/json"].schema;
    expect(JSON.stringify(createBody)).toContain("enterprise");
    const page = await fetch(`${server.url}/api/v1/docs`);
    expect(await page.text()).toContain("SwaggerUIBundle");
    const asset = await fetch(`${server.url}/api/v1/docs/assets/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/docs/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it("describes every REST route it serves in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    // Not REST: the document and its viewer, the widget's script files, tRPC, the Chroma gateway
    // (Chroma's own API) and the console's pages.
    const notRest = /^\/(api\/v1\/(openapi\.json|docs$|docs\/assets\/)|widget(\.js|\/)|trpc\/|api\/v2\/)/;
    const served = [
      ...new Set(
        server.app.routes
          .filter((route) => route.method !== "ALL" && !notRest.test(route.path))
          .map((route) => {
            // The document's paths are relative to `/api/v1` unless a route names its own server.
            const path = route.path.replace(/^\/api\/v1(?=\/)/, "").replace(/:(\w+)/g, "{$1}");
            return `${route.method} ${path}`;
          }),
      ),
    ];
    expect(served.length).toBeGreaterThan(60);
    expect(served.filter((route) => !documented.has(route))).toEqual([]);
    // The multipart routes say what they take.
    const files = doc.paths["/tenants/{tenantId}/documents/files"]?.post as any;
    expect(Object.keys(files.requestBody.content)).toEqual(["multipart/form-data"]);
  });

  it("lists the plans with their quotas", async () => {
    const plans = await api(server.url, "GET", "/plans");
    expect(Object.keys(plans.body)).toEqual(["free", "starter", "pro", "enterprise"]);
    expect(plans.body.starter.maxDocuments).toBeGreaterThan(0);
    // The cheap plan lives in a shared pool; the paid ones get an instance of their own.
    expect(Object.values(plans.body).map((plan: any) => plan.tier)).toEqual([
      "shared",
      "dedicated",
      "dedicated",
      "dedicated",
    ]);
  });

  it("login: a wrong password is 401 and a logged-out session stops working", async () => {
    const wrong = await api(server.url, "POST", "/auth/login", {
      body: { email: "admin@vdb.test", password: "nope" },
    });
    expect(wrong.status).toBe(401);
    const session = await api(server.url, "POST", "/auth/login", {
      body: { email: "ADMIN@vdb.test", password: "correct-horse-battery" },
    });
    expect(session.status).toBe(200);
    const token = session.body.token;
    expect((await api(server.url, "GET", "/auth/me", { token })).body.kind).toBe("user");
    expect((await api(server.url, "POST", "/auth/logout", { token })).status).toBe(200);
    expect((await api(server.url, "GET", "/auth/me", { token })).status).toBe(401);
  });
});
