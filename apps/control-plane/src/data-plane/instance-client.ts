import { Readable } from "node:stream";
import { AppError } from "@vdb/http/errors";
import { createUpstreamClient, type UpstreamStream } from "@vdb/http/upstream-client";
import type { Scope } from "@vdb/schemas/auth";
import type { Tier } from "@vdb/schemas/plans";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { LRUCache } from "lru-cache";
import { requireTenantScope } from "../auth/authorize";
import { type AwakeOutcome, isAsleep, waitUntilAwake } from "../instances/await-awake";
import type { Reconciler } from "../instances/reconciler";
import { servingInstance, tokenAddress } from "../instances/serving-instance";
import type { Ctx } from "../lib/context";
import type { Services } from "../services";
import { activeTierMove } from "../tenants/tier-move-job";
import { limitTenantRequest } from "../usage/rate-limit";

const TOKEN_TTL_SECONDS = 300;
/** Instance tokens are reused until a minute before they expire. */
const TOKEN_REUSE_MS = (TOKEN_TTL_SECONDS - 60) * 1000;
const REQUEST_TIMEOUT_MS = 60_000;
/** Tenants whose location and tokens are kept; the least recently used beyond it are read again. */
const CACHED_TENANTS = 10_000;

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
  /**
   * Whether the call is a search, metered as one (usage `search`) when the instance answers it
   * below 400. Searches are metered here and nowhere else: `/search` (searchInstance) and
   * Chroma's `/query` through the gateway.
   */
  isSearch?: boolean;
}

/** An instance's answer, read whole: its status, content type and body text. */
export interface InstanceReply {
  status: number;
  contentType: string;
  /** The instance's `Retry-After` on a refusal (rate limit, pool slots, a restart, a tier move). */
  retryAfter?: string | undefined;
  text: string;
}

/** A call to an instance whose body and answer are streamed (the Chroma gateway's). */
export interface OpenRequest {
  tenantId: string;
  scope: Scope;
  method: string;
  /** As ForwardRequest's: a search, metered once when answered below 400. */
  isSearch?: boolean;
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

/** `InstanceClient.call`'s request: a JSON body, sent serialised. */
export interface CallRequest extends Omit<ForwardRequest, "method" | "body"> {
  method: "GET" | "POST" | "DELETE";
  body?: unknown;
}

/**
 * The one way the control plane reaches a tenant's instance (one per `Services`, as
 * `services.instances`). Every call checks the caller's scope on the tenant, finds where the
 * tenant is served (its own instance or its pool; waking it when it sleeps, refusing writes while
 * it moves between tiers) and signs a short-lived instance token for it. It owns what that costs
 * to repeat: locations (re-read at most once a second, dropped the moment this process's
 * reconciler changes an instance), tokens (reused until a minute before they expire) and the
 * waits for waking instances (concurrent callers share one).
 *
 * - `forward`: the answer read whole, as it came (the REST data plane passes it through);
 * - `call`: a JSON body sent, the answer parsed;
 * - `open`: the body and the answer streamed (the Chroma gateway, backups, tier moves).
 *
 * @example
 * ```ts
 * const { status, body } = await ctx.services.instances.call(ctx, {
 *   tenantId, scope: "read", method: "POST", path: "/search", body: { collection, query },
 * });
 * ```
 */
export class InstanceClient {
  private readonly locations = new LRUCache<string, { location: Location | null }>({
    max: CACHED_TENANTS,
    ttl: LOCATION_TTL_MS,
  });
  /** By tenant, pool and scope: a shared-tier tenant's token is for its pool. */
  private readonly tokens = new LRUCache<string, string>({ max: CACHED_TENANTS, ttl: TOKEN_REUSE_MS });
  private readonly wakes = new Map<string, Promise<AwakeOutcome>>();
  // Kept-alive connections to the instances (see createUpstreamClient for why not fetch or undici).
  private readonly http = createUpstreamClient({ maxSockets: 64, timeoutMs: REQUEST_TIMEOUT_MS });

  constructor(reconciler: Reconciler) {
    reconciler.on("change", (instance) => {
      // A pool's change concerns every tenant placed in it.
      if (instance.poolId) this.locations.clear();
      else this.locations.delete(instance.tenantId);
    });
  }

  /** Drops the tenant's cached location (a move switched it, or began): the next call reads the store. */
  forgetLocation(tenantId: string): void {
    this.locations.delete(tenantId);
  }

  /**
   * Sends one call to the tenant's instance and returns its answer as it came (any status). Input
   * was validated before this. Counts against the tenant's rate limit.
   */
  async forward(ctx: Ctx, request: ForwardRequest): Promise<InstanceReply> {
    requireTenantScope(ctx.principal, request.tenantId, request.scope);
    const { services } = ctx;
    await limitTenantRequest(ctx.principal, request.tenantId, services);
    const done = request.countsAsUse === false ? () => {} : services.activity.begin(request.tenantId);
    try {
      const url = `${await this.runningUrl(services, request.tenantId, request.scope)}${request.path}`;
      const send = async (token: string): Promise<InstanceReply> => {
        try {
          const reply = await this.http.request(url, {
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
      let reply = await send(await this.token(services, request.tenantId, request.scope));
      if (reply.status === 401) {
        // The cached token no longer passes (its signing key was retired, the instance restarted
        // and re-read the JWKS): sign a fresh one and try once more.
        this.forgetToken(request.tenantId, request.scope);
        reply = await send(await this.token(services, request.tenantId, request.scope));
      }
      meterSearch(services, request, reply.status);
      return reply;
    } finally {
      done();
    }
  }

  /** `forward` for JSON calls: the instance's status and parsed body. */
  async call(ctx: Ctx, request: CallRequest): Promise<{ status: number; body: unknown }> {
    const { body, ...rest } = request;
    const reply = await this.forward(ctx, {
      ...rest,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return parseReply(reply);
  }

  /**
   * `forward` with the body and the answer streamed: resolves once the instance's headers
   * arrive. A streamed body cannot be sent twice, so it goes with a freshly signed token, which no
   * instance refuses for being signed by a retired key; bytes in hand take the cached one and the
   * same one retry as `forward`.
   */
  async open(ctx: Ctx, request: OpenRequest): Promise<UpstreamStream> {
    requireTenantScope(ctx.principal, request.tenantId, request.scope);
    const { services } = ctx;
    // A streamed answer's end is not seen here: the activity is its start (and the wake's end).
    services.activity.touch(request.tenantId);
    const base = request.at?.url ?? (await this.runningUrl(services, request.tenantId, request.scope));
    const url = `${base}${request.path}`;
    services.activity.touch(request.tenantId);
    const isReplayable = !(request.body instanceof Readable);
    const send = async (token: string): Promise<UpstreamStream> => {
      try {
        return await this.http.open(url, {
          method: request.method,
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            "x-request-id": ctx.request.requestId,
            ...(request.contentLength === undefined
              ? {}
              : { "content-length": String(request.contentLength) }),
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
    if (!isReplayable) this.forgetToken(request.tenantId, request.scope);
    let answer = await send(await this.token(services, request.tenantId, request.scope, request.at));
    if (answer.status === 401 && isReplayable) {
      answer.body.resume();
      this.forgetToken(request.tenantId, request.scope);
      answer = await send(await this.token(services, request.tenantId, request.scope, request.at));
    }
    meterSearch(services, request, answer.status);
    return answer;
  }

  /**
   * Where a tenant's instance is, read from the store at most once a second per tenant: a
   * data-plane call must not pay a store round trip. This process's reconciler drops an entry the
   * moment the instance changes; another process's change is seen within the second.
   */
  private async location(services: Services, tenantId: string): Promise<Location | null> {
    const hit = this.locations.get(tenantId);
    if (hit) return hit.location;
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
    this.locations.set(tenantId, { location });
    return location;
  }

  // Signing per request would cost more than the search it authorizes.
  private async token(
    services: Services,
    tenantId: string,
    scope: Scope,
    at?: InstanceAddress,
  ): Promise<string> {
    const poolId = at ? at.poolId : ((await this.location(services, tenantId))?.poolId ?? null);
    const key = `${tenantId}|${poolId ?? ""}|${scope}`;
    const cached = this.tokens.get(key);
    if (cached) return cached;
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
    this.tokens.set(key, token);
    return token;
  }

  private forgetToken(tenantId: string, scope: Scope): void {
    for (const key of [...this.tokens.keys()]) {
      if (key.startsWith(`${tenantId}|`) && key.endsWith(`|${scope}`)) this.tokens.delete(key);
    }
  }

  private async runningUrl(services: Services, tenantId: string, scope: Scope): Promise<string> {
    const row = await this.location(services, tenantId);
    if (row?.movingTo && scope !== "read") throw new TenantMovingError(row.movingTo);
    if (row && row.state === "running" && row.url) return row.url;
    if (row && isAsleep(row.state, row.desiredState)) return this.awokenUrl(services, tenantId);
    if (!row)
      throw new InstanceNotRunningError({
        message: "This tenant has no instance; launch one first",
        isStarting: false,
        state: "none",
      });
    const isStarting = row.desiredState === "running";
    throw new InstanceNotRunningError({
      message: `The tenant's instance is ${row.state}${isStarting ? "; try again shortly" : "; launch it first"}`,
      isStarting,
      state: row.state,
    });
  }

  /**
   * The tenant's sleeping (or waking) instance, once it runs: woken now if no one has yet, waited
   * for up to INSTANCE_WAKE_TIMEOUT_MS (concurrent callers here share one wait); past that, a 503
   * with a Retry-After (it goes on waking).
   */
  private async awokenUrl(services: Services, tenantId: string): Promise<string> {
    let wait = this.wakes.get(tenantId);
    if (!wait) {
      wait = waitUntilAwake(services, tenantId).finally(() => this.wakes.delete(tenantId));
      this.wakes.set(tenantId, wait);
    }
    const outcome = await wait;
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
}

/** One search metered for a call that is one (`isSearch`) and that the instance answered. */
function meterSearch(
  services: Services,
  request: { tenantId: string; isSearch?: boolean },
  status: number,
): void {
  if (request.isSearch && status < 400)
    services.usage.record({ tenantId: request.tenantId, kind: "search", quantity: 1 });
}

/** An instance's answer read whole, its body parsed as JSON (an unreadable one is a 503). */
export function parseReply(reply: InstanceReply): { status: number; body: unknown } {
  try {
    return { status: reply.status, body: reply.text ? JSON.parse(reply.text) : null };
  } catch {
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The tenant's instance gave an unreadable answer",
    });
  }
}

/**
 * The instance's answer as this request's response, unchanged; made through the context so the
 * headers middleware set (rate limits) are kept.
 */
export function replyResponse(c: Context, reply: InstanceReply): Response {
  return c.body(reply.text, reply.status as ContentfulStatusCode, {
    "content-type": reply.contentType,
    ...(reply.retryAfter === undefined ? {} : { "retry-after": reply.retryAfter }),
  });
}
