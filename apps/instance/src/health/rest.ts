import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "@vdb/http/errors";
import { jsonContent } from "@vdb/http/openapi";
import { InstanceHealth, InstanceLiveness } from "@vdb/schemas/instances";
import { CONTROL_PLANE_SUBJECT } from "../http/require-scope";
import { restApp } from "../rest/openapi";
import { chromaAnswers, getHealth, poolFigures } from "./get-health";

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const Report = z.union([InstanceHealth, InstanceLiveness]);

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Health"],
  summary:
    "Alive or not (no token): 200 when Chroma answers, 503 when degraded. With an instance token: configuration, Chroma and counts",
  request: {
    query: z.object({
      tenant: z
        .string()
        .max(100)
        .optional()
        .openapi({ description: "Answer 404 unless this is that tenant's instance (supervisors' check)" }),
    }),
  },
  responses: {
    200: jsonContent(Report, "Healthy"),
    401: jsonContent(z.object({ error: z.any() }), "An invalid token"),
    404: jsonContent(z.object({ error: z.any() }), "Not the named tenant's instance"),
    503: jsonContent(Report, "Degraded: Chroma is not answering"),
  },
});

/**
 * Details (tenant id, plan, limits, counts) only for a valid token of this tenant: anyone who
 * can reach the port may ask whether the instance is alive, and nothing more. A supervisor
 * tells its instance from another process on a reused port with `?tenant=`, which confirms a
 * tenant id it already knows and reveals none.
 */
export const healthRest = restApp().openapi(health, async (c) => {
  const services = c.get("services");
  const named = c.req.valid("query").tenant;
  // A pool's supervisor names the pool, whose row it reconciles like a tenant's.
  if (named !== undefined && named !== (services.config.TENANT_ID ?? services.config.POOL_ID)) {
    throw new AppError({ code: "NOT_FOUND", message: "Not this tenant's instance" });
  }
  const header = c.req.header("authorization");
  if (header) {
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      throw new AppError({ code: "UNAUTHORIZED", message: "Authorization header must be 'Bearer <token>'" });
    }
    c.set("identity", await services.verifier(token));
  }
  const identity = c.get("identity");
  if (!identity) {
    const status: "ok" | "degraded" = (await chromaAnswers(services)) ? "ok" : "degraded";
    return c.json({ status }, status === "ok" ? 200 : 503);
  }
  // With a token, the details are the caller's: on a pool, its own namespace's counts.
  // Counted before the caller's own tenant is loaded to answer it.
  const isControlPlane = identity.subject === CONTROL_PLANE_SUBJECT;
  const pool = isControlPlane ? poolFigures(services) : undefined;
  // A dedicated instance's cache is its tenant's own; a pool's is every tenant's in it.
  const rowCache = isControlPlane || !services.poolTenants ? services.rowCache.stats() : undefined;
  const report = await getHealth({ ctx: await services.scopedTo(identity.tenant), pool, rowCache });
  return report.status === "ok" ? c.json(report, 200) : c.json(report, 503);
});
