import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { TenantId } from "@vdb/schemas/ids";
import { Instance, LaunchInstanceInput } from "@vdb/schemas/instances";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { deleteInstance, stopInstance } from "./change-instance-state";
import { getInstance } from "./get-instance";
import { launchInstance } from "./launch-instance";

const tags = ["Instances"];
const TenantParams = z.object({ tenantId: TenantId });
const instanceResponse = { 200: jsonContent(Instance, "The instance"), ...ERROR_RESPONSES };

function paramRoute(method: "get" | "post" | "delete", path: string, summary: string) {
  return createRoute({
    method,
    path,
    tags,
    summary,
    security: SECURITY,
    request: { params: TenantParams },
    responses: instanceResponse,
  });
}

function launchRoute(path: string, summary: string) {
  return createRoute({
    method: "post",
    path,
    tags,
    summary,
    security: SECURITY,
    request: jsonBody(LaunchInstanceInput),
    responses: instanceResponse,
  });
}

const launchBody = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/instance/launch",
  tags,
  summary:
    "Launch (create or start) the tenant's instance; status changes stream over tRPC `instances.onStatus`",
  security: SECURITY,
  request: { params: TenantParams, ...jsonBody(LaunchInstanceInput.omit({ tenantId: true })) },
  responses: instanceResponse,
});

export const instancesRest = restApp()
  .openapi(launchBody, async (c) => {
    const input = { ...c.req.valid("json"), tenantId: c.req.valid("param").tenantId };
    return c.json(await launchInstance({ ctx: ctxOf(c), input }), 200);
  })
  .openapi(
    paramRoute("get", "/tenants/{tenantId}/instance", "The tenant's instance: desired and actual state, URL"),
    async (c) => c.json(await getInstance({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(
    paramRoute("post", "/tenants/{tenantId}/instance/stop", "Stop the instance (data kept)"),
    async (c) => c.json(await stopInstance({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(
    paramRoute("delete", "/tenants/{tenantId}/instance", "Delete the instance and its data"),
    async (c) => c.json(await deleteInstance({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  // The seeds' spellings of the same operations.
  .openapi(launchRoute("/launch-instance", "Seed 000 `/launch-instance`"), async (c) =>
    c.json(await launchInstance({ ctx: ctxOf(c), input: c.req.valid("json") }), 200),
  )
  .openapi(launchRoute("/launch", "Seed 002 `/launch`"), async (c) =>
    c.json(await launchInstance({ ctx: ctxOf(c), input: c.req.valid("json") }), 200),
  )
  .openapi(paramRoute("post", "/stop/{tenantId}", "Seed 002 `/stop/:id`"), async (c) =>
    c.json(await stopInstance({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(paramRoute("delete", "/delete/{tenantId}", "Seed 002 `/delete/:id`"), async (c) =>
    c.json(await deleteInstance({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(paramRoute("get", "/status/{tenantId}", "Seed 002 `/status/:id`"), async (c) =>
    c.json(await getInstance({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  );

const DeleteInstanceBody = z.strictObject({ tenantId: TenantId });
export const seedDeleteInstanceRoute = createRoute({
  method: "post",
  path: "/delete-instance",
  tags,
  summary: "Seed 000 `/delete-instance`",
  security: SECURITY,
  request: jsonBody(DeleteInstanceBody),
  responses: instanceResponse,
});
instancesRest.openapi(seedDeleteInstanceRoute, async (c) =>
  c.json(await deleteInstance({ ctx: ctxOf(c), input: c.req.valid("json") }), 200),
);
