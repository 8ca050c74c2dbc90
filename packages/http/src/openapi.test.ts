import { createRoute, z } from "@hono/zod-openapi";
import type { ErrorBody } from "@vdb/schemas/errors";
import { describe, expect, it } from "vitest";
import { toHttpError } from "./errors";
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

describe("errorResponses", () => {
  it("adds an API's own statuses to the common 400, 404 and 409", () => {
    const responses = errorResponses({ 401: "Bad credential", 503: "Down" });
    expect(Object.keys(responses)).toEqual(["400", "401", "404", "409", "503"]);
    expect(responses[401].description).toBe("Bad credential");
    expect(responses[404].description).toBe("Not found");
  });
});
