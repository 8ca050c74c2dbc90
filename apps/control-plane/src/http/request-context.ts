import { newId } from "@vdb/schemas/ids";
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { Services } from "../services";
import type { AppEnv } from "./env";

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Gives each request an id (the caller's `X-Request-Id` when sane), a logger that stamps it on
 * every line, one access-log line, and Prometheus counters.
 */
export function requestContext(services: Services) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : newId("request");
    const logger = services.logger.child({ requestId });
    c.set("services", services);
    c.set("requestId", requestId);
    c.set("logger", logger);
    c.set("principal", null);
    c.set("credential", null);
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routePath(c) || "unmatched";
    const status = c.res.status;
    services.metrics.httpRequests.inc({ method: c.req.method, route, status: String(status) });
    services.metrics.httpDuration.observe({ method: c.req.method, route }, seconds);
    if (c.req.path !== "/health" && c.req.path !== "/metrics") {
      logger.info(
        { method: c.req.method, path: c.req.path, status, ms: Math.round(seconds * 1e4) / 10 },
        "request",
      );
    }
  });
}
