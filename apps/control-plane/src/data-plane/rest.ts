import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import type { Scope } from "@vdb/schemas/auth";
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
import type { Context } from "hono";
import { type AppEnv, ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { dataPlaneTenant, replyResponse } from "./instance-client";
import { searchInstance } from "./search-tenant";

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

/** A data-plane call passed to the caller's instance, its answer passed back unparsed. */
async function forwardAs(
  c: Context<AppEnv>,
  call: { namedTenant: string | undefined; scope: Scope; path: string; body: unknown },
): Promise<Response> {
  const { scope, path, body } = call;
  const ctx = ctxOf(c);
  const tenantId = dataPlaneTenant(ctx, call.namedTenant);
  const reply = await ctx.services.instances.forward(ctx, {
    tenantId,
    scope,
    method: "POST",
    path,
    body: JSON.stringify(body),
  });
  return replyResponse(c, reply);
}

// The instance's answers are passed through: they are already in these routes' response shapes.
export const dataPlaneRest = restApp()
  .openapi(embed, async (c) => {
    const namedTenant = c.req.valid("query").tenantId;
    return (await forwardAs(c, {
      namedTenant,
      scope: "write",
      path: "/embed",
      body: c.req.valid("json"),
    })) as never;
  })
  .openapi(search, async (c) => {
    const ctx = ctxOf(c);
    const tenantId = dataPlaneTenant(ctx, c.req.valid("query").tenantId);
    return replyResponse(c, await searchInstance(ctx, { tenantId, request: c.req.valid("json") })) as never;
  })
  .openapi(remove, async (c) => {
    const namedTenant = c.req.valid("query").tenantId;
    return (await forwardAs(c, {
      namedTenant,
      scope: "write",
      path: "/delete",
      body: c.req.valid("json"),
    })) as never;
  })
  .openapi(records, async (c) => {
    const namedTenant = c.req.valid("query").tenantId;
    return (await forwardAs(c, {
      namedTenant,
      scope: "read",
      path: "/records",
      body: c.req.valid("json"),
    })) as never;
  });
