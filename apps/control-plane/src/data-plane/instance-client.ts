import { Readable } from "node:stream";
import { AppError } from "@vdb/http/errors";
import { createUpstreamClient, type UpstreamStream } from "@vdb/http/upstream-client";
import type { Scope } from "@vdb/schemas/auth";
import type { Tier } from "@vdb/schemas/plans";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { requireTenantScope } from "../auth/authorize";
import { awaitAwake, isAsleep } from "../instances/await-awake";
import { servingInstance, tokenAddress } from "../instances/serving-instance";
import type { Ctx } from "../lib/context";
import type { Services } from "../services";
import { activeTierMove } from "../tenants/tier-move-job";
import { limitTenantRequest } from "../usage/rate-limit";

const TOKEN_TTL_SECONDS = 300;
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Where a tenant's calls go: its own instance, or (poolId set) the pool it is placed in;
 * `movingTo` is set while the tenant moves to another tier (its writes are refused meanwhile).
 */
type Location = {
  state: string;
  desiredState: string;
  url: string | null;
  poolId: string | null;
  movingTo: Tier | null;
};
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
    services.reconciler.on("change", (instance) => {
      // A pool's change concerns every tenant placed in it.
      if (instance.poolId) fresh.clear();
      else fresh.delete(instance.tenantId);
    });
    locationCaches.set(services, fresh);
    cache = fresh;
  }
  const hit = cache.get(tenantId);
  if (hit && Date.now() - hit.at < LOCATION_TTL_MS) return hit.location;
  const [serving, move] = await Promise.all([
    servingInstance(services.db, tenantId),
    activeTierMove(services.db, tenantId),
  ]);
  const location = serving
    ? {
        state: serving.row.state,
        desiredState: serving.row.desiredState,
        url: serving.row.url,
        poolId: serving.poolId,
        movingTo: move?.toTier ?? null,
      }
    : null;
  cache.set(tenantId, { location, at: Date.now() });
  return location;
}

/** Drops the tenant's cached location (a move switched it, or began): the next call reads the store. */
export function forgetInstanceLocation(services: Services, tenantId: string): void {
  locationCaches.get(services)?.delete(tenantId);
}

// Instance tokens reused across requests until a minute before they expire: signing per
// request would cost more than the search it authorizes.
const tokenCaches = new WeakMap<Services, Map<string, { token: string; expiresAt: number }>>();

async function instanceToken(
  services: Services,
  tenantId: string,
  scope: Scope,
  at?: InstanceAddress,
): Promise<string> {
  let cache = tokenCaches.get(services);
  if (!cache) {
    cache = new Map();
    tokenCaches.set(services, cache);
  }
  // A shared-tier tenant's token is for its pool: the pool is part of what the token addresses.
  const poolId = at ? at.poolId : ((await instanceLocation(services, tenantId))?.poolId ?? null);
  const key = `${tenantId}|${poolId ?? ""}|${scope}`;
  const cached = cache.get(key);
  if (cached && cached.expiresAt - Date.now() > 60_000) return cached.token;
  const { token } = await services.signingKeys.sign(
    {
      iss: services.config.publicUrl,
      ...tokenAddress(tenantId, poolId),
      sub: "control-plane",
      tenant: tenantId,
      scope,
    },
    TOKEN_TTL_SECONDS,
  );
  cache.set(key, { token, expiresAt: Date.now() + TOKEN_TTL_SECONDS * 1000 });
  return token;
}

function forgetInstanceToken(services: Services, tenantId: string, scope: Scope): void {
  const cache = tokenCaches.get(services);
  for (const key of cache?.keys() ?? []) {
    if (key.startsWith(`${tenantId}|`) && key.endsWith(`|${scope}`)) cache!.delete(key);
  }
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

/**
 * The tenant has no running instance: none launched (CONFLICT: launch one), or one stopped or
 * still starting (`isStarting`: SERVICE_UNAVAILABLE, try again shortly). Its own class so the
 * Chroma gateway can answer it as Chroma's 503 whatever the code.
 */
export class InstanceNotRunningError extends AppError {
  readonly isStarting: boolean;
  /** The instance's state, or "none" when the tenant has none. */
  readonly state: string;

  constructor(opts: { message: string; isStarting: boolean; state?: string; retryAfterSeconds?: number }) {
    super({
      code: opts.isStarting ? "SERVICE_UNAVAILABLE" : "CONFLICT",
      message: opts.message,
      ...(opts.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: opts.retryAfterSeconds }),
    });
    this.isStarting = opts.isStarting;
    this.state = opts.state ?? (opts.isStarting ? "starting" : "stopped");
  }
}

/** Seconds a caller is told to wait (Retry-After) when a waking instance is not up in time. */
const WAKE_RETRY_AFTER_SECONDS = 5;

/**
 * A tenant's writes while it moves between tiers: refused with a Retry-After (the copy must not
 * miss them); reads go on answering from where it is until the switch.
 */
export class TenantMovingError extends InstanceNotRunningError {
  constructor(tier: Tier) {
    super({
      message: `The tenant is moving to the ${tier} tier; writes are paused until the move completes, try again shortly`,
      isStarting: true,
      state: "moving",
      retryAfterSeconds: MOVE_RETRY_AFTER_SECONDS,
    });
  }
}

const MOVE_RETRY_AFTER_SECONDS = 5;

async function runningInstanceUrl(services: Services, tenantId: string, scope: Scope): Promise<string> {
  const row = await instanceLocation(services, tenantId);
  if (row?.movingTo && scope !== "read") throw new TenantMovingError(row.movingTo);
  if (row && row.state === "running" && row.url) return row.url;
  if (row && isAsleep(row.state, row.desiredState)) return awokenInstanceUrl(services, tenantId);
  if (!row)
    throw new InstanceNotRunningError({
      message: "This tenant has no instance; launch one first",
      isStarting: false,
      state: "none",
    });
  if (row.state !== "running" || !row.url) {
    const isStarting = row.desiredState === "running";
    throw new InstanceNotRunningError({
      message: `The tenant's instance is ${row.state}${isStarting ? "; try again shortly" : "; launch it first"}`,
      isStarting,
      state: row.state,
    });
  }
  return row.url;
}

/**
 * The tenant's sleeping (or waking) instance, once it runs: woken now if no one has yet, waited
 * for up to INSTANCE_WAKE_TIMEOUT_MS; past that, a 503 with a Retry-After (it goes on waking).
 */
async function awokenInstanceUrl(services: Services, tenantId: string): Promise<string> {
  const outcome = await awaitAwake(services, tenantId);
  if (outcome.kind === "running") return outcome.url;
  if (outcome.kind === "timed-out") {
    throw new InstanceNotRunningError({
      message: `The tenant's instance is waking up and was not ready within ${services.config.INSTANCE_WAKE_TIMEOUT_MS / 1000} s; try again shortly`,
      isStarting: true,
      state: "waking",
      retryAfterSeconds: WAKE_RETRY_AFTER_SECONDS,
    });
  }
  const isStarting = outcome.desiredState === "running";
  throw new InstanceNotRunningError({
    message: `The tenant's instance is ${outcome.state}${isStarting ? "; try again shortly" : "; launch it first"}`,
    isStarting,
    state: outcome.state,
    ...(isStarting ? { retryAfterSeconds: WAKE_RETRY_AFTER_SECONDS } : {}),
  });
}

/**
 * The tenant's instance did not answer although recorded running (`state` "unreachable"), or
 * is not running (see InstanceNotRunningError). Not the request's fault.
 */
export class InstanceUnavailableError extends AppError {
  constructor(
    readonly state: string,
    opts: { code: "CONFLICT" | "SERVICE_UNAVAILABLE"; message: string; cause?: unknown },
  ) {
    super(opts);
    this.name = "InstanceUnavailableError";
  }
}

export interface ForwardRequest {
  tenantId: string;
  scope: Scope;
  method: string;
  /** Path and query on the instance, e.g. `/search` or `/chroma/api/v2/version`. */
  path: string;
  body?: string;
  /**
   * False for a look that should not keep the instance awake (the console's periodic record
   * count); it still wakes a sleeping one. Default true.
   */
  countsAsUse?: boolean;
}

/** An instance's answer, read whole: its status, content type and body text. */
export interface InstanceReply {
  status: number;
  contentType: string;
  text: string;
}

// Kept-alive connections to the instances, shared by every data-plane call (see
// createUpstreamClient for why not fetch or undici).
const instanceClient = createUpstreamClient({ maxSockets: 64, timeoutMs: REQUEST_TIMEOUT_MS });

/**
 * Sends one call to the tenant's instance with a short-lived instance token and returns its
 * answer as it came (any status). Input was validated before this.
 */
export async function forwardToInstance(ctx: Ctx, request: ForwardRequest): Promise<InstanceReply> {
  requireTenantScope(ctx.principal, request.tenantId, request.scope);
  const { services } = ctx;
  await limitTenantRequest(ctx.principal, request.tenantId, services);
  const done = request.countsAsUse === false ? () => {} : services.activity.begin(request.tenantId);
  try {
    return await forwardToRunning(ctx, request);
  } finally {
    done();
  }
}

async function forwardToRunning(ctx: Ctx, request: ForwardRequest): Promise<InstanceReply> {
  const { services } = ctx;
  const url = `${await runningInstanceUrl(services, request.tenantId, request.scope)}${request.path}`;
  const send = async (token: string): Promise<InstanceReply> => {
    try {
      const reply = await instanceClient.request(url, {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "x-request-id": ctx.request.requestId,
        },
        ...(request.body === undefined ? {} : { body: request.body }),
      });
      return { ...reply, contentType: reply.contentType ?? "application/json" };
    } catch (error) {
      services.logger.warn({ err: error, tenantId: request.tenantId }, "instance unreachable");
      throw new InstanceUnavailableError("unreachable", {
        code: "SERVICE_UNAVAILABLE",
        message: "The tenant's instance did not answer; try again shortly",
      });
    }
  };
  const reply = await send(await instanceToken(services, request.tenantId, request.scope));
  if (reply.status !== 401) return reply;
  // The cached token no longer passes (its signing key was retired, the instance restarted and
  // re-read the JWKS): sign a fresh one and try once more.
  forgetInstanceToken(services, request.tenantId, request.scope);
  return send(await instanceToken(services, request.tenantId, request.scope));
}

/** A call to an instance whose body and answer are streamed (the Chroma gateway's). */
export interface OpenRequest {
  tenantId: string;
  scope: Scope;
  method: string;
  /** Path and query on the instance, e.g. `/chroma/api/v2/version`. */
  path: string;
  /** Bytes in hand, or a stream passed on as it arrives (for bodies too large to hold twice). */
  body?: Buffer | Readable;
  /** A streamed body's length, when the caller announced one: sent on, so it is not chunked. */
  contentLength?: number;
  /** Headers of the control plane's own (a restore's RESTORE_WRITE_HEADER); never a caller's. */
  headers?: Record<string, string>;
  /**
   * This instance rather than the one serving the tenant (a tier move reads where the tenant
   * was and writes where it goes); the move's own writes are not refused.
   */
  at?: InstanceAddress;
}

/** One instance a tenant's namespace lives on: a dedicated one (poolId null) or a pool. */
export interface InstanceAddress {
  url: string;
  poolId: string | null;
}

/**
 * `forwardToInstance` with the body and the answer streamed: resolves once the instance's
 * headers arrive. A streamed body cannot be sent twice, so it goes with a freshly signed token,
 * which no instance refuses for being signed by a retired key; bytes in hand take the cached one
 * and the same one retry as `forwardToInstance`.
 */
export async function openOnInstance(ctx: Ctx, request: OpenRequest): Promise<UpstreamStream> {
  requireTenantScope(ctx.principal, request.tenantId, request.scope);
  const { services } = ctx;
  // A streamed answer's end is not seen here: the activity is its start (and the wake's end).
  services.activity.touch(request.tenantId);
  const base = request.at?.url ?? (await runningInstanceUrl(services, request.tenantId, request.scope));
  const url = `${base}${request.path}`;
  services.activity.touch(request.tenantId);
  const isReplayable = !(request.body instanceof Readable);
  const send = async (token: string): Promise<UpstreamStream> => {
    try {
      return await instanceClient.open(url, {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "x-request-id": ctx.request.requestId,
          ...(request.contentLength === undefined ? {} : { "content-length": String(request.contentLength) }),
          ...request.headers,
        },
        ...(request.body === undefined ? {} : { body: request.body }),
      });
    } catch (error) {
      services.logger.warn({ err: error, tenantId: request.tenantId }, "instance unreachable");
      throw new AppError({
        code: "SERVICE_UNAVAILABLE",
        message: "The tenant's instance did not answer; try again shortly",
      });
    }
  };
  if (!isReplayable) forgetInstanceToken(services, request.tenantId, request.scope);
  const answer = await send(await instanceToken(services, request.tenantId, request.scope, request.at));
  if (answer.status !== 401 || !isReplayable) return answer;
  answer.body.resume();
  forgetInstanceToken(services, request.tenantId, request.scope);
  return send(await instanceToken(services, request.tenantId, request.scope, request.at));
}

/** `forwardToInstance` for JSON calls: the instance's status and parsed body. */
export async function callInstance(
  ctx: Ctx,
  opts: {
    tenantId: string;
    scope: Scope;
    method: "GET" | "POST" | "DELETE";
    path: string;
    body?: unknown;
    countsAsUse?: boolean;
  },
): Promise<{ status: number; body: unknown }> {
  const { body, ...rest } = opts;
  const reply = await forwardToInstance(ctx, {
    ...rest,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return parsedReply(reply);
}

function parsedReply(reply: InstanceReply): { status: number; body: unknown } {
  try {
    return { status: reply.status, body: reply.text ? JSON.parse(reply.text) : null };
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
  const { tenantId, reply } = await dataPlaneForward(ctx, opts);
  return { tenantId, ...parsedReply(reply) };
}

/**
 * `dataPlaneCall` for the REST routes, whose answer is the instance's own: its bytes are passed
 * through unparsed (the hot path of every search).
 */
export async function dataPlaneForward(
  ctx: Ctx,
  opts: { namedTenant: string | undefined; scope: Scope; path: string; body: unknown },
): Promise<{ tenantId: string; reply: InstanceReply }> {
  const tenantId = dataPlaneTenant(ctx, opts.namedTenant);
  const reply = await forwardToInstance(ctx, {
    tenantId,
    scope: opts.scope,
    method: "POST",
    path: opts.path,
    body: JSON.stringify(opts.body),
  });
  return { tenantId, reply };
}

/**
 * The instance's answer as this request's response, unchanged; made through the context so the
 * headers middleware set (rate limits) are kept.
 */
export function replyResponse(c: Context, reply: InstanceReply): Response {
  return c.body(reply.text, reply.status as ContentfulStatusCode, { "content-type": reply.contentType });
}
