import { createRoute, z } from "@hono/zod-openapi";
import { TenantId } from "@vdb/schemas/ids";
import {
  DeleteRequest,
  DeleteResponse,
  EmbedRequest,
  EmbedResponse,
  SearchRequest,
  SearchResponse,
} from "@vdb/schemas/instances";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, jsonBody, jsonContent, restApp, SECURITY } from "../rest/openapi";
import { callInstance, dataPlaneTenant } from "./call-instance";

const tags = ["Data plane"];
const TenantQuery = z.object({
  /** Needed with a session token; an API key implies its tenant. */
  tenantId: TenantId.optional(),
});

function dataRoute<Req extends z.ZodType, Res extends z.ZodType>(
  path: string,
  summary: string,
  request: Req,
  response: Res,
) {
  return createRoute({
    method: "post",
    path,
    tags,
    summary,
    security: SECURITY,
    request: { query: TenantQuery, ...jsonBody(request) },
    responses: { 200: jsonContent(response, "The instance's answer"), ...ERROR_RESPONSES },
  });
}

const embed = dataRoute(
  "/embed",
  "Upsert documents into the tenant's instance (seed 000 `/embed`)",
  EmbedRequest,
  EmbedResponse,
);
const search = dataRoute(
  "/search",
  "Semantic search in the tenant's instance (seed 000 `/search`)",
  SearchRequest,
  SearchResponse,
);
const remove = dataRoute(
  "/delete",
  "Delete vectors by ids or filter (seed 000 `/delete`)",
  DeleteRequest,
  DeleteResponse,
);

export const dataPlaneRest = restApp()
  .openapi(embed, async (c) => {
    const ctx = ctxOf(c);
    const tenantId = dataPlaneTenant(ctx, c.req.valid("query").tenantId);
    const result = await callInstance(ctx, {
      tenantId,
      scope: "write",
      method: "POST",
      path: "/embed",
      body: c.req.valid("json"),
    });
    return c.json(result.body as EmbedResponse, result.status as 200);
  })
  .openapi(search, async (c) => {
    const ctx = ctxOf(c);
    const tenantId = dataPlaneTenant(ctx, c.req.valid("query").tenantId);
    const result = await callInstance(ctx, {
      tenantId,
      scope: "read",
      method: "POST",
      path: "/search",
      body: c.req.valid("json"),
    });
    return c.json(result.body as SearchResponse, result.status as 200);
  })
  .openapi(remove, async (c) => {
    const ctx = ctxOf(c);
    const tenantId = dataPlaneTenant(ctx, c.req.valid("query").tenantId);
    const result = await callInstance(ctx, {
      tenantId,
      scope: "write",
      method: "POST",
      path: "/delete",
      body: c.req.valid("json"),
    });
    return c.json(result.body as DeleteResponse, result.status as 200);
  });
