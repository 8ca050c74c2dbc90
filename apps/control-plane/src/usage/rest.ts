import { createRoute, z } from "@hono/zod-openapi";
import { jsonContent, SECURITY } from "@vdb/http/openapi";
import { TenantId } from "@vdb/schemas/ids";
import { UsageReport, UsageSummary, UsageSummaryQuery, UsageWindow } from "@vdb/schemas/usage";
import { dataPlaneTenant } from "../data-plane/instance-client";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { getUsage, getUsageSummary } from "./get-usage";

const tags = ["Usage"];

const get = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/usage",
  tags,
  summary: "A tenant's usage per UTC day and kind (default: the last 30 days; at most 366)",
  security: SECURITY,
  request: { params: z.object({ tenantId: TenantId }), query: UsageWindow },
  responses: {
    200: jsonContent(UsageReport, "Daily usage, totals and the plan's quotas"),
    ...ERROR_RESPONSES,
  },
});

const seedGet = createRoute({
  method: "get",
  path: "/admin/usage",
  tags,
  summary: "Seed `GET /admin/usage`: a tenant's usage; an API key implies its tenant (else ?tenantId=)",
  security: SECURITY,
  request: { query: UsageWindow.extend({ tenantId: TenantId.optional() }) },
  responses: {
    200: jsonContent(UsageReport, "Daily usage, totals and the plan's quotas"),
    ...ERROR_RESPONSES,
  },
});

const summary = createRoute({
  method: "get",
  path: "/admin/usage/summary",
  tags,
  summary: "Operators: per kind, the total across tenants and the tenants that used it most",
  security: SECURITY,
  request: { query: UsageSummaryQuery },
  responses: { 200: jsonContent(UsageSummary, "Totals and top tenants per kind"), ...ERROR_RESPONSES },
});

export const usageRest = restApp()
  .openapi(get, async (c) => {
    const input = { ...c.req.valid("query"), tenantId: c.req.valid("param").tenantId };
    return c.json(await getUsage({ ctx: ctxOf(c), input }), 200);
  })
  .openapi(seedGet, async (c) => {
    const ctx = ctxOf(c);
    const { tenantId, ...window } = c.req.valid("query");
    return c.json(
      await getUsage({ ctx, input: { ...window, tenantId: dataPlaneTenant(ctx, tenantId) } }),
      200,
    );
  })
  .openapi(summary, async (c) =>
    c.json(await getUsageSummary({ ctx: ctxOf(c), input: c.req.valid("query") }), 200),
  );
