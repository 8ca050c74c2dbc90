import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { errorResponses, jsonContent } from "@vdb/http/openapi";
import { Plan, PlanQuotas, Tier } from "@vdb/schemas/plans";
import { UPLOAD_ROUTE_PREFIX } from "../blobs/upload-routes";
import type { AppEnv } from "../http/env";
import { RevokedKeys } from "../tokens/list-revoked-keys";

/**
 * The routes served by plain handlers, not generated from a schema, described in the OpenAPI
 * document all the same: the plans, the upload URLs' PUT (a streamed body no validator may read
 * first), and the operations endpoints outside `/api/v1` (health, metrics, the keys instances
 * verify tokens with). `app.test.ts` checks that every route the app serves is in the document.
 */
export function documentPlatformRoutes(api: OpenAPIHono<AppEnv>, publicUrl: string): void {
  const root = [{ url: publicUrl }];
  const routes = [
    createRoute({
      method: "get",
      path: "/plans",
      tags: ["Plans"],
      summary: "The plans and their quotas (no credential needed)",
      responses: {
        200: jsonContent(
          z.record(
            Plan,
            PlanQuotas.extend({
              title: z.string(),
              tier: Tier,
              sleepAfterIdleMs: z.number().int(),
              backupEveryMs: z.number().int(),
              backupsKept: z.number().int(),
            }),
          ),
          "Every plan by name: its quotas, title and idle time before its instances sleep (0: never)",
        ),
      },
    }),
    createRoute({
      method: "put",
      path: `/${UPLOAD_ROUTE_PREFIX.replace(/^\/api\/v1\//, "")}{token}`,
      tags: ["Documents"],
      summary: "Upload a file's bytes to an upload URL (from `POST /tenants/{tenantId}/documents/uploads`)",
      description: `The signed token in the path is the only credential, like an S3 presigned URL. Send the file as the
raw body with the Content-Type the URL was issued for; a PUT again replaces the object until the URL expires.`,
      request: {
        params: z.object({ token: z.string() }),
        body: {
          required: true,
          content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
        },
      },
      responses: {
        201: jsonContent(z.object({ key: z.string(), sizeBytes: z.number().int() }), "Stored"),
        ...errorResponses({
          401: "Invalid upload URL",
          403: "The upload URL has expired",
          413: "Larger than the URL allows",
        }),
      },
    }),
    createRoute({
      method: "get",
      path: "/health",
      tags: ["Operations"],
      summary: "Liveness and store reachability (for load balancers; no credential)",
      servers: root,
      responses: {
        200: jsonContent(z.object({ status: z.literal("ok"), store: z.string() }), "Serving"),
        503: jsonContent(
          z.object({ status: z.literal("unavailable"), store: z.string() }),
          "Store unreachable",
        ),
      },
    }),
    createRoute({
      method: "get",
      path: "/metrics",
      tags: ["Operations"],
      summary: "Prometheus metrics (text exposition format)",
      servers: root,
      responses: { 200: { description: "Metrics", content: { "text/plain": { schema: z.string() } } } },
    }),
    createRoute({
      method: "get",
      path: "/.well-known/jwks.json",
      tags: ["Operations"],
      summary: "The public keys instance tokens are signed with (JWKS), which instances verify against",
      servers: root,
      responses: {
        200: jsonContent(z.object({ keys: z.array(z.record(z.string(), z.unknown())) }), "The JWK set"),
      },
    }),
    createRoute({
      method: "get",
      path: "/.well-known/vdb-revoked-keys.json",
      tags: ["Operations"],
      summary: "A tenant's recently revoked or expired API keys, which its instance refuses tokens of",
      servers: root,
      request: { query: z.object({ tenant: z.string() }) },
      responses: { 200: jsonContent(RevokedKeys, "The revoked keys within the token lifetime window") },
    }),
  ];
  for (const route of routes) api.openAPIRegistry.registerPath(route);
}
