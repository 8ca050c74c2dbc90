import { createRoute } from "@hono/zod-openapi";
import { jsonContent, SECURITY } from "@vdb/http/openapi";
import { AuditEntry, ListAuditInput } from "@vdb/schemas/audit";
import { pageOf } from "@vdb/schemas/pagination";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { listAudit } from "./list-audit";

const list = createRoute({
  method: "get",
  path: "/audit",
  tags: ["Audit"],
  summary: "Audit log, newest first (tenant admins: give tenantId; operators: any)",
  security: SECURITY,
  request: { query: ListAuditInput },
  responses: { 200: jsonContent(pageOf(AuditEntry), "A page of entries"), ...ERROR_RESPONSES },
});

export const auditRest = restApp().openapi(list, async (c) =>
  c.json(await listAudit({ ctx: ctxOf(c), input: c.req.valid("query") }), 200),
);
