import { AppError } from "@vdb/http/errors";
import { chromaScope } from "@vdb/schemas/chroma-api";
import { Hono } from "hono";
import { authenticate, credentialFrom } from "../auth/authenticate";
import { forwardToInstance, replyResponse } from "../data-plane/call-instance";
import type { AppEnv } from "../http/env";
import { ctxOf } from "../http/env";
import { keyRateLimiter, rateLimitError, rateLimitHeaders } from "../usage/rate-limit";

/**
 * A Chroma-compatible API at `/api/v2`, so the stock `chromadb` client works unchanged:
 * `new ChromaClient({ path: "<control plane>", headers: { "x-chroma-token": "<VDB API key>" } })`.
 *
 * Every tenant has its own Chroma, so the gateway only maps the key to that tenant's instance;
 * a key can never name another tenant's data. Inside it, the Chroma namespace is fixed
 * (`default_tenant` / `default_database`); creating Chroma tenants or databases, and `reset`,
 * are refused.
 */
const limitKeys = keyRateLimiter();

export const chromaGateway = new Hono<AppEnv>().all("/api/v2/*", async (c) => {
  const credential = credentialFrom({
    authorization: c.req.header("authorization"),
    apiKey: c.req.header("x-chroma-token") ?? c.req.header("x-api-key"),
  });
  const principal = await authenticate(c.get("services"), credential);
  if (principal?.kind !== "apiKey") {
    throw new AppError({
      code: "UNAUTHORIZED",
      message: "The Chroma gateway needs a VDB API key in the x-chroma-token header",
    });
  }
  c.set("principal", principal);
  const verdict = await limitKeys(principal, c.get("services"));
  if (verdict && !verdict.isAllowed) {
    for (const [name, value] of Object.entries(rateLimitHeaders(verdict))) c.header(name, value);
    throw rateLimitError(verdict);
  }
  const path = c.req.path;
  if (path === "/api/v2/auth/identity" && c.req.method === "GET") {
    return c.json({ user_id: principal.keyId, tenant: "default_tenant", databases: ["default_database"] });
  }
  const scope = chromaScope(c.req.method, path);
  if (!scope) {
    throw new AppError({
      code: "FORBIDDEN",
      message: `${c.req.method} ${path} is not available through the VDB gateway (each tenant has one Chroma namespace)`,
    });
  }
  const query = new URL(c.req.url).search;
  const body = c.req.method === "GET" || c.req.method === "HEAD" ? undefined : await c.req.text();
  const response = await forwardToInstance(ctxOf(c), {
    tenantId: principal.tenantId,
    scope,
    method: c.req.method,
    path: `/chroma${path}${query}`,
    ...(body ? { body } : {}),
  });
  if (c.req.method === "POST" && path.endsWith("/query") && response.status < 400) {
    c.get("services").usage.record({ tenantId: principal.tenantId, kind: "search", quantity: 1 });
  }
  return replyResponse(c, response);
});
