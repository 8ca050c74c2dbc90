import type { Scope } from "@vdb/schemas/auth";
import { Hono } from "hono";
import { authenticate, credentialFrom } from "../auth/authenticate";
import { forwardToInstance } from "../data-plane/call-instance";
import type { AppEnv } from "../http/env";
import { ctxOf } from "../http/env";
import { AppError } from "../lib/errors";

/**
 * A Chroma-compatible API at `/api/v2`, so the stock `chromadb` client works unchanged:
 * `new ChromaClient({ path: "<control plane>", headers: { "x-chroma-token": "<VDB API key>" } })`.
 *
 * Every tenant has its own Chroma, so the gateway only maps the key to that tenant's instance;
 * a key can never name another tenant's data. Inside it, the Chroma namespace is fixed
 * (`default_tenant` / `default_database`); creating Chroma tenants or databases, and `reset`,
 * are refused.
 */
const NAMESPACE = "/api/v2/tenants/default_tenant/databases/default_database";
const SERVER_INFO = new Set([
  "/api/v2/heartbeat",
  "/api/v2/version",
  "/api/v2/healthcheck",
  "/api/v2/pre-flight-checks",
]);
const READ_ACTIONS = new Set(["get", "query", "count", "search", "indexing_status", "fork_count"]);

/** The scope a Chroma call needs, or null when the gateway does not offer it. */
export function chromaScope(method: string, path: string): Scope | null {
  if (SERVER_INFO.has(path)) return method === "GET" ? "read" : null;
  if (path === "/api/v2/tenants/default_tenant" || path === NAMESPACE)
    return method === "GET" ? "read" : null;
  if (path === `${NAMESPACE}/collections_count`) return method === "GET" ? "read" : null;
  if (!path.startsWith(`${NAMESPACE}/collections`)) return null;
  const rest = path.slice(`${NAMESPACE}/collections`.length).split("/").filter(Boolean);
  if (rest.length === 0) return method === "GET" ? "read" : method === "POST" ? "write" : null;
  if (rest[0] === "by-id") rest.shift();
  if (rest.length === 1)
    return method === "GET" ? "read" : method === "PUT" || method === "DELETE" ? "write" : null;
  if (rest.length === 2 && (method === "POST" || method === "GET"))
    return READ_ACTIONS.has(rest[1]!) ? "read" : "write";
  return null;
}

export const chromaGateway = new Hono<AppEnv>().all("/api/v2/*", async (c) => {
  const credential = credentialFrom({
    authorization: c.req.header("authorization"),
    apiKey: c.req.header("x-chroma-token") ?? c.req.header("x-api-key"),
  });
  const principal = await authenticate(c.var.services, credential);
  if (principal?.kind !== "apiKey") {
    throw new AppError({
      code: "UNAUTHORIZED",
      message: "The Chroma gateway needs a VDB API key in the x-chroma-token header",
    });
  }
  c.set("principal", principal);
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
  return new Response(response.body, {
    status: response.status,
    headers: { "content-type": response.headers.get("content-type") ?? "application/json" },
  });
});
