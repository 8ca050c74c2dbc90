import { newId } from "@vdb/schemas/ids";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { Logger } from "pino";

/** The Hono variables `requestContext` sets; an app's env adds its own beside them. */
export type RequestContextEnv = {
  Variables: {
    services: { logger: Logger };
    requestId: string;
    logger: Logger;
  };
};

export interface RequestContextOptions<E extends RequestContextEnv> {
  services: E["Variables"]["services"];
  /** Paths that get no access-log line: probes and scrapes would drown the real traffic. */
  quietPaths: readonly string[];
  /**
   * Paths whose rest is a credential (`/api/v1/uploads/` + an upload token): the access log shows
   * the prefix and `[redacted]`. Segments that look like a VDB key, session or JWT are always
   * redacted, wherever they are.
   */
  secretPathPrefixes?: readonly string[];
  /** Sets the app's own per-request variables before any handler runs. */
  onStart?: (c: Context<E>) => void;
  /** Runs once the response is ready, with the time taken (the control plane's metrics). */
  onFinish?: (c: Context<E>, seconds: number) => void;
}

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,100}$/;
// vdbk_… API keys, vdbs_… sessions, and JWTs (a base64url JSON header starts `eyJ`).
const SECRET_SEGMENT = /^(vdb[ks]_|eyJ[A-Za-z0-9_-]*\.)/;
const REDACTED = "[redacted]";

/**
 * The path as the access log may show it: no credential in it. (The query string is never
 * logged: tRPC subscriptions carry their token there.)
 *
 * @example
 * redactPath("/api/v1/uploads/abc.def", ["/api/v1/uploads/"]); // "/api/v1/uploads/[redacted]"
 */
export function redactPath(path: string, secretPrefixes: readonly string[] = []): string {
  for (const prefix of secretPrefixes) {
    if (path.startsWith(prefix) && path.length > prefix.length) return `${prefix}${REDACTED}`;
  }
  if (!path.includes("vdb") && !path.includes("eyJ")) return path;
  return path
    .split("/")
    .map((segment) => (SECRET_SEGMENT.test(segment) ? REDACTED : segment))
    .join("/");
}

/**
 * Gives each request an id (the caller's `X-Request-Id` when sane, so a request forwarded from
 * one service to another keeps its id), a logger that stamps it on every line, and one
 * access-log line.
 *
 * @example
 * app.use(
 *   requestContext<AppEnv>({
 *     services,
 *     quietPaths: ["/health"],
 *     onStart: (c) => c.set("principal", null),
 *     onFinish: (c, seconds) => metrics.observe(c.req.method, seconds),
 *   }),
 * );
 */
export function requestContext<E extends RequestContextEnv>(
  opts: RequestContextOptions<E>,
): MiddlewareHandler<E> {
  return createMiddleware<E>(async (c, next) => {
    // Hono cannot check `set` on a generic env; these are the keys RequestContextEnv fixes.
    const vars = c as unknown as Context<RequestContextEnv>;
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : newId("request");
    const logger = opts.services.logger.child({ requestId });
    vars.set("services", opts.services);
    vars.set("requestId", requestId);
    vars.set("logger", logger);
    opts.onStart?.(c);
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    opts.onFinish?.(c, ms / 1000);
    if (!opts.quietPaths.includes(c.req.path)) {
      logger.info(
        {
          method: c.req.method,
          path: redactPath(c.req.path, opts.secretPathPrefixes),
          status: c.res.status,
          ms: Math.round(ms * 10) / 10,
        },
        "request",
      );
    }
  });
}
