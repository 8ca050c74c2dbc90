import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { type ApiResponse, type JsonRequestOptions, jsonRequest } from "@vdb/http/testing";
import type { TenantRole } from "@vdb/schemas/auth";
import type { Instance } from "@vdb/schemas/instances";
import type { Plan } from "@vdb/schemas/plans";
import { EventSource } from "eventsource";
import type { AppRouter } from "../trpc/router";

/** One REST call under `/api/v1`: JSON in, parsed JSON out, whatever the status. */
// biome-ignore lint/suspicious/noExplicitAny: bodies are checked by the tests' assertions, not by types
export function api<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  opts?: JsonRequestOptions,
): Promise<ApiResponse<T>> {
  return jsonRequest<T>(`${baseUrl}/api/v1`, method, path, opts);
}

/** A tRPC client over real HTTP, authenticated with `token`. */
export function trpcAs(baseUrl: string, token?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${baseUrl}/trpc`,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });
}

/** Creates a console user and logs them in; returns the user id and a session token. */
export async function userWithSession(
  baseUrl: string,
  adminToken: string,
  email: string,
  password = "a-long-enough-password",
): Promise<{ userId: string; token: string }> {
  const created = await api(baseUrl, "POST", "/users", {
    token: adminToken,
    body: { email, name: email, password },
  });
  if (created.status !== 201) throw new Error(`creating ${email}: ${JSON.stringify(created.body)}`);
  const session = await api(baseUrl, "POST", "/auth/login", { body: { email, password } });
  return { userId: created.body.id, token: session.body.token };
}

/**
 * A new user with `role` in `tenantId` (set by the operator `adminToken`), logged in.
 *
 * @example
 * const viewer = await memberWithSession(url, adminToken, tenantId, "viewer@example.com", "viewer");
 */
export async function memberWithSession(
  baseUrl: string,
  adminToken: string,
  tenantId: string,
  email: string,
  role: TenantRole,
  password?: string,
): Promise<{ userId: string; token: string }> {
  const user = await userWithSession(baseUrl, adminToken, email, password);
  const member = await api(baseUrl, "PUT", `/tenants/${tenantId}/members/${user.userId}`, {
    token: adminToken,
    body: { role },
  });
  if (member.status !== 200) throw new Error(`making ${email} ${role}: ${JSON.stringify(member.body)}`);
  return user;
}

/** A tRPC client that also subscribes (SSE; Node 20 has no global EventSource). */
export function trpcLiveAs(baseUrl: string, token: string) {
  const authorization = `Bearer ${token}`;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: `${baseUrl}/trpc`,
          EventSource,
          eventSourceOptions: {
            fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization } }),
          },
        }),
        false: httpLink({ url: `${baseUrl}/trpc`, headers: { authorization } }),
      }),
    ],
  });
}

/**
 * Watches a tenant's instance through the `instances.onStatus` subscription until `until`
 * holds; resolves with every state seen on the way (what a console would have shown live).
 */
export function watchUntil(
  client: ReturnType<typeof trpcLiveAs>,
  tenantId: string,
  until: (instance: Instance | null) => boolean,
  {
    timeoutMs = 60_000,
    onFirst,
  }: {
    timeoutMs?: number;
    /** Called with the first status (the one now): changes made after it are all seen. */
    onFirst?: (instance: Instance | null) => void;
  } = {},
): Promise<(Instance | null)[]> {
  const seen: (Instance | null)[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(
        new Error(`no match within ${timeoutMs} ms; saw ${seen.map((i) => i?.state ?? "none").join(" → ")}`),
      );
    }, timeoutMs);
    const subscription = client.instances.onStatus.subscribe(
      { tenantId },
      {
        onData: (instance) => {
          seen.push(instance);
          if (seen.length === 1) onFirst?.(instance);
          if (until(instance)) {
            clearTimeout(timer);
            subscription.unsubscribe();
            resolve(seen);
          }
        },
        onError: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      },
    );
  });
}

/**
 * Creates a tenant over the API as `adminToken` and a read/write API key for it: what most
 * ingestion tests start from.
 */
export async function tenantWithKey(
  baseUrl: string,
  adminToken: string,
  slug: string,
  plan: Plan = "pro",
): Promise<{ tenantId: string; key: string }> {
  const tenant = await api(baseUrl, "POST", "/tenants", {
    token: adminToken,
    body: { slug, name: slug, plan },
  });
  if (tenant.status !== 201) throw new Error(`creating tenant ${slug}: ${JSON.stringify(tenant.body)}`);
  const key = await api(baseUrl, "POST", `/tenants/${tenant.body.id}/keys`, {
    token: adminToken,
    body: { name: "ingest", scopes: ["read", "write"] },
  });
  if (key.status !== 201) throw new Error(`creating a key for ${slug}: ${JSON.stringify(key.body)}`);
  return { tenantId: tenant.body.id, key: key.body.secret };
}

/**
 * Launches a tenant's instance as `adminToken` and waits, through the live status subscription,
 * until it runs; resolves with the running instance's URL.
 */
export async function launchUntilRunning(
  baseUrl: string,
  adminToken: string,
  tenantId: string,
): Promise<string> {
  const launched = await api(baseUrl, "POST", "/launch", { token: adminToken, body: { tenantId } });
  if (launched.status >= 300) throw new Error(`launching ${tenantId}: ${JSON.stringify(launched.body)}`);
  const seen = await watchUntil(trpcLiveAs(baseUrl, adminToken), tenantId, (i) => i?.state === "running");
  return seen.at(-1)!.url!;
}

/**
 * Polls `read` until `ok` holds and resolves with that value; past `timeoutMs` it rejects with
 * `what` and the last value read, so a failing wait says where it stood.
 *
 * It reads every 50 ms at first, then less often (each pause 1.5× the last, up to 0.5 s): a long
 * wait (an ingestion, a restart) does not poll the control plane twenty times a second while
 * it works. `everyMs` fixes the pause instead, for a wait that must catch a moment that passes.
 */
export async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  { timeoutMs = 120_000, everyMs }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let pauseMs = everyMs ?? 50; ; pauseMs = everyMs ?? Math.min(pauseMs * 1.5, 500)) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: gave up; last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

/** Logs in as the test admin (`ADMIN_EMAIL`) and returns the session token. */
export async function adminSession(baseUrl: string, email: string, password: string): Promise<string> {
  const session = await api(baseUrl, "POST", "/auth/login", { body: { email, password } });
  if (session.status !== 200) throw new Error(`logging in as ${email}: ${JSON.stringify(session.body)}`);
  return session.body.token;
}
