import type { Principal } from "@vdb/schemas/auth";
import type { Context } from "hono";
import type { Ctx, RequestMeta } from "../lib/context";
import type { Logger } from "../lib/logger";
import type { Services } from "../services";

/** Hono variables every handler can read. */
export type AppEnv = {
  Variables: {
    services: Services;
    requestId: string;
    logger: Logger;
    principal: Principal | null;
    credential: string | null;
  };
};

/** Builds the verb context of a request. */
export function ctxOf(c: Context<AppEnv>): Ctx {
  return { services: c.get("services"), principal: c.get("principal"), request: requestMetaOf(c) };
}

export function requestMetaOf(c: Context<AppEnv>): RequestMeta {
  return {
    requestId: c.get("requestId"),
    ip: clientIp(c),
    userAgent: c.req.header("user-agent")?.slice(0, 300) ?? null,
  };
}

function clientIp(c: Context<AppEnv>): string | null {
  const forwarded = c.get("services")?.config.TRUST_PROXY
    ? c.req.header("x-forwarded-for")?.split(",")[0]?.trim()
    : undefined;
  if (forwarded) return forwarded.slice(0, 64);
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? null;
}
