import { AppError } from "@vdb/http/errors";
import { BURST_SECONDS } from "@vdb/http/token-buckets";
import { isScopeGranted, type Scope } from "@vdb/schemas/auth";
import { PLANS } from "@vdb/schemas/plans";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { TokenIdentity } from "../auth/token-verifier";
import type { InstanceEnv } from "./env";

/** The subject of the tokens the control plane signs for its own calls, which it limits itself. */
export const CONTROL_PLANE_SUBJECT = "control-plane";

/**
 * The tenant's plan rate, enforced here for tokens callers hold themselves (minted with an API
 * key or a session): a long-lived token sent straight to the instance must not escape the limit
 * the control plane applies. The control plane's own calls are limited there, per tenant and
 * per key, before they are sent (and ingestion must not be refused by its own instance).
 */
function limitDirectCaller(c: Context<InstanceEnv>, identity: TokenIdentity): void {
  if (identity.subject === CONTROL_PLANE_SUBJECT) return;
  const { config, rateLimits } = c.get("services");
  const rps = PLANS[config.PLAN].requestsPerSecond;
  const taken = rateLimits.take("tenant", rps);
  c.header("RateLimit-Limit", String(taken.limit));
  c.header("RateLimit-Remaining", String(taken.remaining));
  c.header("RateLimit-Reset", String(taken.resetSeconds));
  c.header("RateLimit-Policy", `${taken.limit};w=${BURST_SECONDS}`);
  if (!taken.isAllowed) {
    throw new AppError({
      code: "RATE_LIMITED",
      message: `This tenant may make ${rps} requests per second (${config.PLAN} plan, bursts of ${taken.limit}); retry in ${taken.retryAfterSeconds} s`,
      retryAfterSeconds: taken.retryAfterSeconds,
    });
  }
}

/**
 * A write sent straight to the instance while the tenant moves between tiers would miss the copy
 * the move makes: refused, like the control plane refuses writes through it then, with a
 * Retry-After. The control plane's own calls (the move's reads, its purge) pass.
 */
async function refuseWhilePaused(c: Context<InstanceEnv>, identity: TokenIdentity, needed: Scope) {
  if (identity.subject === CONTROL_PLANE_SUBJECT || needed === "read") return;
  if (!(await c.get("services").areWritesPaused(identity.tenant))) return;
  throw new AppError({
    code: "SERVICE_UNAVAILABLE",
    message:
      "The tenant is moving between tiers (a plan change): writes resume when the move has finished, at the tenant's new place (get a new token from the control plane then)",
    retryAfterSeconds: 5,
  });
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Verifies the caller's instance token and checks it grants `needed`. Runs before body
 * validation, so an unauthenticated caller learns nothing about the API from error details.
 */
export function requireScope(needed: Scope) {
  return createMiddleware<InstanceEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    if (!header) {
      throw new AppError({
        code: "UNAUTHORIZED",
        message: "Send an instance token: Authorization: Bearer <token>",
      });
    }
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      throw new AppError({ code: "UNAUTHORIZED", message: "Authorization header must be 'Bearer <token>'" });
    }
    const identity = await c.get("services").verifier(token);
    c.set("identity", identity);
    // From here on, every handler works in the caller's namespace only (a pool's tenant).
    const services = await c.get("services").scopedTo(identity.tenant);
    c.set("services", services);
    limitDirectCaller(c, identity);
    if (!isScopeGranted(identity.scopes, needed)) {
      throw new AppError({
        code: "FORBIDDEN",
        message: `This token lacks the "${needed}" scope (it has: ${identity.scopes.join(", ") || "none"})`,
      });
    }
    await refuseWhilePaused(c, identity, needed);
    const leave = await services.gate.enter();
    try {
      await next();
    } finally {
      leave();
    }
  });
}
