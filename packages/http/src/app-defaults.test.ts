import type { ErrorBody } from "@vdb/schemas/errors";
import { Hono } from "hono";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { answerErrorsAsJson, limitBodySize, serveApiDocs } from "./app-defaults";
import { AppError } from "./errors";
import { type RequestContextEnv, requestContext } from "./request-context";

const logger = pino({ level: "silent" });

function testApp() {
  const app = new Hono<RequestContextEnv>();
  app.use(requestContext<RequestContextEnv>({ services: { logger }, quietPaths: [] }));
  app.use(limitBodySize(16));
  app.post("/echo", async (c) => c.json(await c.req.json()));
  app.get("/boom", () => {
    throw new Error("secret detail");
  });
  app.get("/missing", () => {
    throw new AppError({ code: "NOT_FOUND", message: "No such thing" });
  });
  serveApiDocs(app, "Test API");
  answerErrorsAsJson(app, logger);
  return app;
}

describe("app defaults", () => {
  it("answers unknown routes with NOT_FOUND and the request id", async () => {
    const response = await testApp().request("/nowhere", { headers: { "x-request-id": "req_abc" } });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-request-id")).toBe("req_abc");
    expect(await response.json()).toEqual({
      error: { code: "NOT_FOUND", message: "No route for GET /nowhere", requestId: "req_abc" },
    });
  });

  it("answers thrown AppErrors with their code, and anything else as INTERNAL", async () => {
    const app = testApp();
    expect((await app.request("/missing")).status).toBe(404);
    const boom = await app.request("/boom");
    expect(boom.status).toBe(500);
    const text = await boom.text();
    expect((JSON.parse(text) as ErrorBody).error.code).toBe("INTERNAL");
    expect(text).not.toContain("secret detail");
  });

  it("refuses bodies over the limit with PAYLOAD_TOO_LARGE", async () => {
    const app = testApp();
    const small = await app.request("/echo", { method: "POST", body: '{"a":1}' });
    expect(small.status).toBe(200);
    const big = await app.request("/echo", { method: "POST", body: JSON.stringify({ a: "x".repeat(64) }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as ErrorBody).error).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      message: "Request body is over 16 bytes",
    });
  });

  it("serves the Swagger UI page and its assets, and no other files", async () => {
    const app = testApp();
    const page = await app.request("/docs");
    expect(await page.text()).toContain("<title>Test API</title>");
    const css = await app.request("/docs/assets/swagger-ui.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toBe("text/css");
    expect((await app.request("/docs/assets/package.json")).status).toBe(404);
  });
});
