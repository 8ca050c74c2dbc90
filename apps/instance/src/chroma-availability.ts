import { AppError } from "@vdb/http/errors";
import type { MiddlewareHandler } from "hono";
import type { InstanceEnv } from "./http/env";

/** Paths that never touch Chroma's data (health answers `degraded` itself). */
const OPEN_PATHS = new Set(["/healthz", "/openapi.json", "/docs"]);

/**
 * While the instance restarts its crashed Chroma (well under a second, unless it keeps failing),
 * every data request gets a clear 503 with `Retry-After` at once, rather than a connection error
 * from a port nobody listens on.
 */
export function answerUnavailableWhileChromaRestarts(): MiddlewareHandler<InstanceEnv> {
  return async (c, next) => {
    const isOpen = OPEN_PATHS.has(c.req.path) || c.req.path.startsWith("/docs/");
    if (!isOpen && !c.get("services").isChromaAvailable()) {
      throw new AppError({
        code: "SERVICE_UNAVAILABLE",
        message: "The tenant's vector store is restarting after a crash; retry in a moment",
        retryAfterSeconds: 1,
      });
    }
    await next();
  };
}
