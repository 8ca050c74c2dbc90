import { AppError } from "@vdb/http/errors";
import type { Scope } from "@vdb/schemas/auth";
import { instanceAudience } from "@vdb/schemas/tokens";
import { eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { instances } from "../lib/db/schema";
import type { Services } from "../services";

const TOKEN_TTL_SECONDS = 300;
const REQUEST_TIMEOUT_MS = 60_000;

type Location = { state: string; desiredState: string; url: string | null };
const LOCATION_TTL_MS = 1_000;
const locationCaches = new WeakMap<Services, Map<string, { location: Location | null; at: number }>>();

/**
 * Where a tenant's instance is, read from the store at most once a second per tenant: a
 * data-plane call must not pay a store round trip. This process's reconciler drops an entry the
 * moment the instance changes; another process's change is seen within the second.
 */
async function instanceLocation(services: Services, tenantId: string): Promise<Location | null> {
  let cache = locationCaches.get(services);
  if (!cache) {
    const fresh = new Map<string, { location: Location | null; at: number }>();
    services.reconciler.on("change", (instance) => fresh.delete(instance.tenantId));
    locationCaches.set(services, fresh);
    cache = fresh;
  }
  const hit = cache.get(tenantId);
  if (hit && Date.now() - hit.at < LOCATION_TTL_MS) return hit.location;
  const [row] = await services.db
    .select({ state: instances.state, desiredState: instances.desiredState, url: instances.url })
    .from(instances)
    .where(eq(instances.tenantId, tenantId))
    .limit(1);
  cache.set(tenantId, { location: row ?? null, at: Date.now() });
  return row ?? null;
}

// Instance tokens reused across requests until a minute before they expire: signing per
// request would cost more than the search it authorizes.
const tokenCaches = new WeakMap<Services, Map<string, { token: string; expiresAt: number }>>();

async function instanceToken(services: Services, tenantId: string, scope: Scope): Promise<string> {
  let cache = tokenCaches.get(services);
  if (!cache) {
    cache = new Map();
    tokenCaches.set(services, cache);
  }
  const key = `${tenantId}|${scope}`;
  const cached = cache.get(key);
  if (cached && cached.expiresAt - Date.now() > 60_000) return cached.token;
  const { token } = await services.signingKeys.sign(
    {
      iss: services.config.publicUrl,
      aud: instanceAudience(tenantId),
      sub: "control-plane",
      tenant: tenantId,
      scope,
    },
    TOKEN_TTL_SECONDS,
  );
  cache.set(key, { token, expiresAt: Date.now() + TOKEN_TTL_SECONDS * 1000 });
  return token;
}

/** The tenant the data-plane call is for: an API key's own, or the one a user names. */
export function dataPlaneTenant(ctx: Ctx, named: string | undefined): string {
  const principal = ctx.principal;
  if (principal?.kind === "apiKey") {
    if (named !== undefined && named !== principal.tenantId) {
      throw new AppError({ code: "FORBIDDEN", message: "This key has no access to that tenant" });
    }
    return principal.tenantId;
  }
  if (!named) {
    throw new AppError({
      code: "BAD_REQUEST",
      message: "Name the tenant with ?tenantId=… (API keys imply theirs)",
    });
  }
  return named;
}

export interface ForwardRequest {
  tenantId: string;
  scope: Scope;
  method: string;
  /** Path and query on the instance, e.g. `/search` or `/chroma/api/v2/version`. */
  path: string;
  body?: string;
}

/**
 * Forwards one call to the tenant's instance with a short-lived instance token and returns the
 * instance's answer unread. Input was validated before this.
 */
export async function forwardToInstance(ctx: Ctx, request: ForwardRequest): Promise<Response> {
  requireTenantScope(ctx.principal, request.tenantId, request.scope);
  const { services } = ctx;
  const row = await instanceLocation(services, request.tenantId);
  if (!row)
    throw new AppError({ code: "CONFLICT", message: "This tenant has no instance; launch one first" });
  if (row.state !== "running" || !row.url) {
    const starting = row.desiredState === "running";
    throw new AppError({
      code: starting ? "SERVICE_UNAVAILABLE" : "CONFLICT",
      message: `The tenant's instance is ${row.state}${starting ? "; try again shortly" : "; launch it first"}`,
    });
  }
  try {
    return await fetch(`${row.url}${request.path}`, {
      method: request.method,
      headers: {
        authorization: `Bearer ${await instanceToken(services, request.tenantId, request.scope)}`,
        "content-type": "application/json",
        "x-request-id": ctx.request.requestId,
      },
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    services.logger.warn({ err: error, tenantId: request.tenantId }, "instance unreachable");
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The tenant's instance did not answer; try again shortly",
    });
  }
}

/** `forwardToInstance` for JSON calls: the instance's status and parsed body. */
export async function callInstance(
  ctx: Ctx,
  opts: { tenantId: string; scope: Scope; method: "GET" | "POST" | "DELETE"; path: string; body?: unknown },
): Promise<{ status: number; body: unknown }> {
  const { body, ...rest } = opts;
  const response = await forwardToInstance(ctx, {
    ...rest,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: text ? JSON.parse(text) : null };
  } catch {
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The tenant's instance gave an unreadable answer",
    });
  }
}

/** A data-plane call (`/embed`, `/search`, `/delete`): the caller's tenant, then its instance's answer. */
export async function dataPlaneCall(
  ctx: Ctx,
  opts: { namedTenant: string | undefined; scope: Scope; path: string; body: unknown },
): Promise<{ tenantId: string; status: number; body: unknown }> {
  const tenantId = dataPlaneTenant(ctx, opts.namedTenant);
  const result = await callInstance(ctx, {
    tenantId,
    scope: opts.scope,
    method: "POST",
    path: opts.path,
    body: opts.body,
  });
  return { tenantId, ...result };
}
