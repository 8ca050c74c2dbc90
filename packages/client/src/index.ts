/**
 * Typed client for the VDB control plane's tRPC API.
 *
 * @example
 * ```ts
 * import { createVdbClient, isVdbError } from "@vdb/client";
 *
 * const vdb = createVdbClient({ url: "https://vdb.example.com", apiKey: process.env.VDB_API_KEY! });
 * const tenant = await vdb.tenants.get.query({ tenantId: "ten_..." });
 * ```
 *
 * @module
 */
import { createTRPCClient, httpBatchLink, type TRPCClient, TRPCClientError } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@vdb/control-plane/router";
import type { ErrorCode, FieldIssue } from "@vdb/schemas/errors";
import { withRateLimitRetry } from "./rate-limit-retry";

export type { AppRouter, ErrorCode as VdbErrorCode, FieldIssue as VdbFieldIssue };
export { TRPCClientError, type withRateLimitRetry };

/**
 * How the client authenticates: a tenant API key (`vdbk_…`) or a user session token (`vdbs_…`).
 * Both are sent as `Authorization: Bearer <credential>`.
 *
 * @example
 * ```ts
 * const asKey: VdbCredentials = { url: "http://localhost:8080", apiKey: "vdbk_..." };
 * const asUser: VdbCredentials = { url: "http://localhost:8080", sessionToken: "vdbs_..." };
 * ```
 */
export type VdbCredentials = { url: string; apiKey: string } | { url: string; sessionToken: string };

/**
 * Transport options for {@link createVdbClient}.
 *
 * @example
 * ```ts
 * const options: VdbClientOptions = { headers: { "x-request-id": "req_123" }, fetch: myFetch };
 * ```
 */
export interface VdbClientOptions {
  /** A `fetch` to use instead of the global one (tests, proxies, older runtimes). */
  fetch?: typeof fetch;
  /** Wait and retry when a key is over its plan's requests per second (429 with Retry-After); default true. */
  retryRateLimited?: boolean;
  /** Extra headers sent with every request. `Authorization` is always the credential's. */
  headers?: Record<string, string>;
}

/**
 * The client {@link createVdbClient} returns: one property per router, `.query` / `.mutate` per procedure.
 *
 * @example
 * ```ts
 * async function planOf(vdb: VdbClient, tenantId: string) {
 *   return (await vdb.tenants.get.query({ tenantId })).plan;
 * }
 * ```
 */
export type VdbClient = TRPCClient<AppRouter>;

/**
 * The input type of every procedure, by path.
 *
 * @example
 * ```ts
 * const input: VdbInputs["tenants"]["create"] = { slug: "acme", name: "Acme", plan: "pro" };
 * ```
 */
export type VdbInputs = inferRouterInputs<AppRouter>;

/**
 * The output type of every procedure, by path.
 *
 * @example
 * ```ts
 * type Tenant = VdbOutputs["tenants"]["get"];
 * ```
 */
export type VdbOutputs = inferRouterOutputs<AppRouter>;

/**
 * What the server attaches to every error: the closed error code, the request id to quote to an
 * operator, and per-field issues for `VALIDATION_FAILED`.
 *
 * @example
 * ```ts
 * function describe(data: VdbErrorData) {
 *   return `${data.appCode} (request ${data.requestId})`;
 * }
 * ```
 */
export interface VdbErrorData {
  appCode: ErrorCode;
  requestId: string;
  issues: FieldIssue[] | null;
}

/**
 * A {@link TRPCClientError} that came from the VDB server and carries {@link VdbErrorData}.
 *
 * @example
 * ```ts
 * function codeOf(err: VdbError) {
 *   return err.data.appCode;
 * }
 * ```
 */
export type VdbError = TRPCClientError<AppRouter> & { data: VdbErrorData };

/**
 * Whether `err` is an error answered by the VDB server, with its `appCode` and `requestId`.
 * Network failures and other thrown values return `false`.
 *
 * @example
 * ```ts
 * try {
 *   await vdb.keys.create.mutate({ tenantId, name: "ci", scopes: ["read"] });
 * } catch (err) {
 *   if (isVdbError(err) && err.data.appCode === "FORBIDDEN") {
 *     console.error(`not allowed (request ${err.data.requestId})`);
 *   } else throw err;
 * }
 * ```
 */
export function isVdbError(err: unknown): err is VdbError {
  if (!(err instanceof TRPCClientError)) return false;
  const data: unknown = err.data;
  if (typeof data !== "object" || data === null) return false;
  const { appCode, requestId } = data as Record<string, unknown>;
  return typeof appCode === "string" && typeof requestId === "string";
}

/**
 * Creates a typed client for the control plane at `credentials.url` (its `/trpc` endpoint).
 * Calls made in the same tick are batched into one HTTP request.
 *
 * @example
 * ```ts
 * const admin = createVdbClient({ url: "http://localhost:8080", sessionToken: "vdbs_..." });
 * const tenant = await admin.tenants.create.mutate({ slug: "acme", name: "Acme", plan: "pro" });
 * const key = await admin.keys.create.mutate({ tenantId: tenant.id, name: "reader", scopes: ["read"] });
 *
 * const reader = createVdbClient({ url: "http://localhost:8080", apiKey: key.secret });
 * await reader.tenants.get.query({ tenantId: tenant.id });
 * ```
 */
export function createVdbClient(credentials: VdbCredentials, options: VdbClientOptions = {}): VdbClient {
  const credential = "apiKey" in credentials ? credentials.apiKey : credentials.sessionToken;
  // An empty credential would silently make every call anonymous; fail where the mistake is.
  if (!credential) throw new TypeError("createVdbClient: the apiKey or sessionToken is empty");
  const baseUrl = credentials.url.replace(/\/+$/, "");
  // Drop a caller's Authorization in any casing: fetch would join two into one invalid header.
  const extraHeaders = Object.fromEntries(
    Object.entries(options.headers ?? {}).filter(([name]) => name.toLowerCase() !== "authorization"),
  );
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${baseUrl}/trpc`,
        headers: { ...extraHeaders, authorization: `Bearer ${credential}` },
        // A key over its plan's rate gets 429: wait as told and retry, unless asked not to.
        fetch:
          options.retryRateLimited === false
            ? (options.fetch ?? globalThis.fetch)
            : withRateLimitRetry(options.fetch),
      }),
    ],
  });
}
