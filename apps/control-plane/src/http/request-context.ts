import { requestContext as baseRequestContext } from "@vdb/http/request-context";
import { routePath } from "hono/route";
import { UPLOAD_ROUTE_PREFIX } from "../blobs/upload-routes";
import type { Services } from "../services";
import type { AppEnv } from "./env";

/**
 * `@vdb/http`'s request context (id, child logger, access log) with no caller yet and
 * Prometheus counters per route.
 */
export function requestContext(services: Services) {
  return baseRequestContext<AppEnv>({
    services,
    quietPaths: ["/health", "/metrics"],
    // An upload URL's token works until it expires: it must not sit in the logs.
    secretPathPrefixes: [UPLOAD_ROUTE_PREFIX],
    onStart: (c) => {
      c.set("principal", null);
      c.set("credential", null);
    },
    onFinish: (c, seconds) => {
      const route = routePath(c) || "unmatched";
      services.metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
      services.metrics.httpDuration.observe({ method: c.req.method, route }, seconds);
    },
  });
}
