import { createRoute, z } from "@hono/zod-openapi";
import type { ErrorBody } from "@vdb/schemas/errors";
import { describe, expect, it } from "vitest";
import { AppError, toHttpError } from "./errors";
import { createRestApp, errorResponses, jsonBody, jsonContent } from "./openapi";

const Tenant = z.object({ name: z.string().min(1), plan: z.enum(["free", "pro"]) });

function tenantsApp() {
  const create = createRoute({
    method: "post",
    path: "/tenants",
    request: jsonBody(Tenant),
    responses: { 201: jsonContent(Tenant, "Created"), ...errorResponses({ 401: "Bad credential" }) },
  });
  const app = createRestApp().openapi(create, (c) => c.json(c.req.valid("json"), 201));
  app.onError((error, c) => {
    const { status, body } = toHttpError(error, "req_test");
    return c.json(body, status as 400);
  });
  return app;
}

function post(body: string) {
  return tenantsApp().request("/tenants", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
}

describe("createRestApp", () => {
  it("passes valid bodies to the handler", async () => {
    const response = await post(JSON.stringify({ name: "acme", plan: "free" }));
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ name: "acme", plan: "free" });
  });

  it("turns an invalid body into VALIDATION_FAILED with one issue per field", async () => {
    const response = await post(JSON.stringify({ name: "", plan: "gold" }));
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.requestId).toBe("req_test");
    expect(error.issues?.map((issue) => issue.path)).toEqual(["name", "plan"]);
  });

  it("names the whole body when it is not an object", async () => {
    const response = await post("[]");
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.issues?.[0]?.path).toBe("(body)");
  });
});

describe("createRestApp with shapeResponses", () => {
  const Account = z.object({ id: z.string(), email: z.string(), createdAt: z.iso.datetime() });
  const row = { id: "usr_1", email: "a@example.com", createdAt: "2026-12-04T15:00:00.000Z" };

  function accountsApp(answer: () => unknown) {
    const get = createRoute({
      method: "get",
      path: "/accounts/{id}",
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: jsonContent(Account, "The account"), ...errorResponses({ 401: "Bad credential" }) },
    });
    const app = createRestApp({ shapeResponses: true }).openapi(get, (c) => {
      const body = answer();
      if (body instanceof AppError) throw body;
      return c.json(body as z.infer<typeof Account>, 200);
    });
    app.onError((error, c) => {
      const { status, body } = toHttpError(error, "req_test");
      return c.json(body, status as 400);
    });
    return app;
  }

  it("drops the fields the route's schema does not name: a column passed on by mistake never leaves", async () => {
    const response = await accountsApp(() => ({ ...row, passwordHash: "scrypt$secret" })).request(
      "/accounts/usr_1",
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(row);
  });

  it("answers 500 INTERNAL, with no detail, when a success breaks its schema", async () => {
    const response = await accountsApp(() => ({ ...row, createdAt: "yesterday" })).request("/accounts/usr_1");
    expect(response.status).toBe(500);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.code).toBe("INTERNAL");
    expect(error.message).not.toContain("createdAt");
  });

  it("leaves error answers as they are", async () => {
    const response = await accountsApp(
      () => new AppError({ code: "NOT_FOUND", message: "No account usr_2" }),
    ).request("/accounts/usr_2");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: "NOT_FOUND", message: "No account usr_2", requestId: "req_test" },
    });
  });

  it("is off by default: the handler's object is sent as it is", async () => {
    const get = createRoute({
      method: "get",
      path: "/accounts",
      responses: { 200: jsonContent(Account, "The account") },
    });
    const app = createRestApp().openapi(get, (c) => c.json({ ...row, passwordHash: "x" }, 200));
    expect(await (await app.request("/accounts")).json()).toEqual({ ...row, passwordHash: "x" });
  });
});

describe("errorResponses", () => {
  it("adds an API's own statuses to the common 400, 404 and 409", () => {
    const responses = errorResponses({ 401: "Bad credential", 503: "Down" });
    expect(Object.keys(responses)).toEqual(["400", "401", "404", "409", "503"]);
    expect(responses[401].description).toBe("Bad credential");
    expect(responses[404].description).toBe("Not found");
  });
});
