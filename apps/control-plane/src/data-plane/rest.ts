import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { TenantId } from "@vdb/schemas/ids";
import {
  DeleteRequest,
  DeleteResponse,
  EmbedRequest,
  EmbedResponse,
  GetRecordsRequest,
  GetRecordsResponse,
  SearchRequest,
  SearchResponse,
} from "@vdb/schemas/instances";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { dataPlaneForward, replyResponse } from "./call-instance";

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
  "Search the tenant's instance (seed 000 `/search`): `mode` hybrid (default for a `query`), vector (default for a `queryEmbedding`, the only mode for one) or keyword (BM25); `where` applies in every mode. Every hit has `score` (what it is ranked by: similarity 1 − distance, BM25 or the fused score), and `vectorScore` / `keywordScore` where the mode ran that ranking",
  SearchRequest,
  SearchResponse,
);
const remove = dataRoute(
  "/delete",
  "Delete vectors by ids or filter (seed 000 `/delete`)",
  DeleteRequest,
  DeleteResponse,
);

const records = dataRoute(
  "/records",
  "A page of a collection's records with text and metadata, by ids and/or metadata filter (`limit`, `offset`); `count` is the collection's total",
  GetRecordsRequest,
  GetRecordsResponse,
);

export const dataPlaneRest = restApp()
  .openapi(embed, async (c) => {
    const input = {
      namedTenant: c.req.valid("query").tenantId,
      scope: "write",
      path: "/embed",
      body: c.req.valid("json"),
    } as const;
    // The instance's answer, passed through (already in this route's response shape).
    return replyResponse(c, (await dataPlaneForward(ctxOf(c), input)).reply) as never;
  })
  .openapi(search, async (c) => {
    const input = {
      namedTenant: c.req.valid("query").tenantId,
      scope: "read",
      path: "/search",
      body: c.req.valid("json"),
    } as const;
    const ctx = ctxOf(c);
    const { tenantId, reply } = await dataPlaneForward(ctx, input);
    if (reply.status < 400) ctx.services.usage.record({ tenantId, kind: "search", quantity: 1 });
    return replyResponse(c, reply) as never;
  })
  .openapi(remove, async (c) => {
    const input = {
      namedTenant: c.req.valid("query").tenantId,
      scope: "write",
      path: "/delete",
      body: c.req.valid("json"),
    } as const;
    return replyResponse(c, (await dataPlaneForward(ctxOf(c), input)).reply) as never;
  })
  .openapi(records, async (c) => {
    const input = {
      namedTenant: c.req.valid("query").tenantId,
      scope: "read",
      path: "/records",
      body: c.req.valid("json"),
    } as const;
    return replyResponse(c, (await dataPlaneForward(ctxOf(c), input)).reply) as never;
  });
