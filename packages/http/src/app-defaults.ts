import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import type { Env, Hono, MiddlewareHandler, Schema } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import { AppError, retryAfterOf, toHttpError } from "./errors";
import type { RequestContextEnv } from "./request-context";

/**
 * Refuses bodies over `maxBytes` before anything parses them, as a PAYLOAD_TOO_LARGE error.
 *
 * @example
 * app.use(limitBodySize(config.MAX_BODY_BYTES));
 */
export function limitBodySize(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new AppError({ code: "PAYLOAD_TOO_LARGE", message: `Request body is over ${maxBytes} bytes` });
  };
  const streamed = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    // Decided from the headers when they tell: Hono's bodyLimit reads `c.req.raw.body`, which on
    // Node makes a full web Request (and stream) for every request, a cost bench/search measured.
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number.parseInt(length, 10) > maxBytes) tooLarge();
      return next();
    }
    return streamed(c, next);
  };
}

/** How long, and for how many more bytes, a refused upload's connection is read after its answer. */
export const LINGER_AFTER_ERROR = { ms: 2_000, bytes: 8 * 1024 * 1024 };

/**
 * For routes that stream large bodies and may refuse one before reading it (no credentials,
 * over the plan's size): an error answer carries `Connection: close`, so the server does not read
 * the rest of what the client sends (up to gigabytes) to keep the connection.
 *
 * Closing a socket with unread data in it makes the kernel send a reset, which can reach the client
 * before it reads the answer: it then sees `EPIPE` or `ECONNRESET` instead of the 413 or 401. So the
 * connection closes as a web server's "lingering close" does: the answer, then our end of the
 * connection (FIN), then whatever the client still sends is read and dropped until it stops,
 * for at most {@link LINGER_AFTER_ERROR} (2 s, 8 MB), and only then is the socket destroyed.
 *
 * @example
 * app.post("/files", closeConnectionOnError, async (c) => { … });
 */
export const closeConnectionOnError: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.res.status < 400) return;
  c.res.headers.set("Connection", "close");
  // On @hono/node-server, `c.env.incoming` is the request's IncomingMessage (elsewhere: absent).
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && !incoming.complete) lingerBeforeClosing(incoming, LINGER_AFTER_ERROR);
};

/**
 * Replaces the socket's `destroySoon`, which Node's HTTP server calls once a `Connection: close`
 * answer is written: end our side, drop what still arrives, destroy on the client's own close or at
 * the first limit reached.
 */
function lingerBeforeClosing(incoming: IncomingMessage, limits: { ms: number; bytes: number }): void {
  const socket = incoming.socket;
  let lingering = false;
  socket.destroySoon = () => {
    if (lingering) return; // Node may call it again as the request ends
    lingering = true;
    let dropped = 0;
    const destroy = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(destroy, limits.ms);
    timer.unref();
    socket.end();
    // The HTTP parser's own reader stops once the request's unread body fills up; ours replaces it.
    socket.removeAllListeners("data");
    socket.on("data", (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > limits.bytes) destroy();
    });
    socket.once("end", destroy);
    socket.once("close", () => clearTimeout(timer));
    socket.resume();
  };
}

/**
 * Answers unknown routes with NOT_FOUND and anything thrown with its error body (see
 * `toHttpError`); 5xx errors are logged, with `fallbackLogger` when the request has none yet.
 *
 * @example
 * answerErrorsAsJson(app, services.logger);
 */
export function answerErrorsAsJson<E extends RequestContextEnv, S extends Schema, P extends string>(
  app: Hono<E, S, P>,
  fallbackLogger: Logger,
): void {
  app.notFound((c) => {
    const { status, body } = toHttpError(
      new AppError({ code: "NOT_FOUND", message: `No route for ${c.req.method} ${c.req.path}` }),
      c.get("requestId"),
    );
    return c.json(body, status as 404);
  });
  app.onError((error, c) => {
    const { status, body } = toHttpError(error, c.get("requestId") ?? "unknown");
    // Unset when the error came before requestContext ran.
    const logger = (c.var as Partial<RequestContextEnv["Variables"]>).logger ?? fallbackLogger;
    if (status >= 500) logger.error({ err: error }, "request failed");
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== null) c.header("Retry-After", String(retryAfter));
    return c.json(body, status as 400);
  });
}

// Swagger UI is served from the npm package, not a CDN: the docs work on an offline install.
const DOCS_ASSETS: Record<string, { type: string }> = {
  "swagger-ui.css": { type: "text/css" },
  "swagger-ui-bundle.js": { type: "text/javascript" },
};

function swaggerUiDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

function docsPage(title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="docs/assets/swagger-ui.css"></head>
<body><main id="docs"></main>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: "openapi.json", dom_id: "#docs" });</script>
</body></html>`;
}

/**
 * Swagger UI at `/docs` (with its assets under `/docs/assets/`) for the `openapi.json` beside it.
 *
 * @example
 * app.doc31("/openapi.json", { openapi: "3.1.0", info });
 * serveApiDocs(app, "VDB API");
 */
export function serveApiDocs<E extends Env, S extends Schema, P extends string>(
  app: Hono<E, S, P>,
  title: string,
): void {
  app.get("/docs", (c) => c.html(docsPage(title)));
  app.get("/docs/assets/:file", (c) => {
    const file = c.req.param("file") ?? "";
    const asset = DOCS_ASSETS[file];
    if (!asset) throw new AppError({ code: "NOT_FOUND", message: `No docs asset ${file}` });
    c.header("Content-Type", asset.type);
    c.header("Cache-Control", "public, max-age=86400");
    return c.body(readFileSync(path.join(swaggerUiDir(), file)));
  });
}
