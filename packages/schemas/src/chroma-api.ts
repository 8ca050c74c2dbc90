import type { Scope } from "./auth";

/**
 * The slice of Chroma's HTTP API (v2) that VDB offers to a tenant, shared by the control
 * plane's gateway and the instance's passthrough so both enforce the same rules. Each tenant
 * has its own Chroma, with one fixed namespace; creating Chroma tenants or databases and
 * `reset` are not offered.
 */
export const CHROMA_NAMESPACE = "/api/v2/tenants/default_tenant/databases/default_database";

const NAMESPACE = CHROMA_NAMESPACE;
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

/** `POST …/collections/{id}/add|upsert`: writes that add documents, which MAX_DOCS limits. The collection id, or null. */
export function chromaWriteTarget(
  method: string,
  path: string,
): { collectionId: string; action: "add" | "upsert" } | null {
  if (method !== "POST" || !path.startsWith(`${NAMESPACE}/collections/`)) return null;
  const [collectionId, action, ...rest] = path.slice(`${NAMESPACE}/collections/`.length).split("/");
  if (!collectionId || rest.length > 0 || (action !== "add" && action !== "upsert")) return null;
  return { collectionId, action };
}
