import { newId } from "@vdb/schemas/ids";
import { createMiddleware } from "hono/factory";
import type { InstanceServices } from "../services";
import type { InstanceEnv } from "./env";

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Gives each request an id (the caller's `X-Request-Id` when sane, so a request forwarded by the
 * control plane keeps its id), a logger that stamps it on every line, and one access-log line.
 */
export function requestContext(services: InstanceServices) {
  return createMiddleware<InstanceEnv>(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : newId("request");
    const logger = services.logger.child({ requestId });
    c.set("services", services);
    c.set("requestId", requestId);
    c.set("logger", logger);
    c.set("identity", null);
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    if (c.req.path !== "/healthz") {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      logger.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms }, "request");
    }
  });
}
