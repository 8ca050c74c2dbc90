import type { Scope } from "./auth";
import type { ErrorCode } from "./errors";

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

/**
 * Set by the control plane's restore on its upserts into a staging collection (`"1"`): the
 * instance then takes the batch as it is (no per-batch quota check, which the restore made once
 * for the whole backup; the keyword index follow the documents sent, not a re-read from Chroma).
 * Honoured only with a control-plane token; the gateway never sends it.
 */
export const RESTORE_WRITE_HEADER = "x-vdb-restore-write";

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

/**
 * How the gateway answers each of VDB's error codes on Chroma's API: Chroma's status for it and
 * the `error` name Chroma's clients map to an exception class (the Python client by this name,
 * the JS client by the status), in Chroma's body `{ "error": name, "message": … }`.
 *
 * - A quota is 422 with a message starting "Quota exceeded": the JS client's
 *   ChromaQuotaExceededError, Python's QuotaError.
 * - SERVICE_UNAVAILABLE is Chroma's 503 `ChromaError` (what Chroma names Unavailable): a server
 *   error in both clients, never 409, which the JS client reports as "already exists".
 * - 401, 403, 404, 409 and 429 are reported by the JS client (3.x) with fixed texts of its own;
 *   Python keeps the message for every one.
 */
export const CHROMA_ERRORS = {
  BAD_REQUEST: { status: 400, name: "InvalidArgumentError" },
  VALIDATION_FAILED: { status: 400, name: "InvalidArgumentError" },
  UNAUTHORIZED: { status: 401, name: "AuthorizationError" },
  FORBIDDEN: { status: 403, name: "AuthError" },
  NOT_FOUND: { status: 404, name: "NotFoundError" },
  METHOD_NOT_ALLOWED: { status: 405, name: "ChromaError" },
  CONFLICT: { status: 409, name: "UniqueConstraintError" },
  PAYLOAD_TOO_LARGE: { status: 413, name: "BatchSizeExceededError" },
  QUOTA_EXCEEDED: { status: 422, name: "QuotaError" },
  RATE_LIMITED: { status: 429, name: "RateLimitError" },
  INTERNAL: { status: 500, name: "InternalError" },
  SERVICE_UNAVAILABLE: { status: 503, name: "ChromaError" },
  // A full disk: a server error in both clients, with VDB's message kept.
  STORAGE_FULL: { status: 507, name: "ChromaError" },
} as const satisfies Record<ErrorCode, { status: number; name: string }>;

/** The body of an error in Chroma's shape. */
export interface ChromaErrorBody {
  error: string;
  message: string;
}

/** What the JS client needs at the start of a 422's message to report it as a quota. */
export const CHROMA_QUOTA_PREFIX = "Quota exceeded: ";
