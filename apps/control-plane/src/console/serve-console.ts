import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Context, MiddlewareHandler } from "hono";

/**
 * Path prefixes the console must never answer, even with its SPA fallback: the APIs, the
 * gateway, the widget's files (`/widget.js`, `/widget/…`, `/embed…`) and the platform's own
 * endpoints. An unknown `/api/v1/…` stays a JSON 404.
 */
const RESERVED_PREFIXES = ["/api", "/trpc", "/health", "/metrics", "/.well-known", "/embed", "/widget"];

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};

/** Whether `requestPath` belongs to another part of the control plane (never to the console). */
export function isReservedPath(requestPath: string): boolean {
  return RESERVED_PREFIXES.some((prefix) => requestPath.startsWith(prefix));
}

async function fileIn(root: string, requestPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return null;
  }
  const resolved = path.resolve(root, `.${decoded}`);
  // A `..` or an encoded slash must not reach outside the console's directory.
  if (resolved !== root && !resolved.startsWith(root + path.sep)) return null;
  try {
    return (await stat(resolved)).isFile() ? resolved : null;
  } catch {
    return null;
  }
}

async function sendFile(c: Context, file: string, cacheControl: string): Promise<Response> {
  const body = await readFile(file);
  c.header("Content-Type", CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream");
  c.header("Cache-Control", cacheControl);
  return c.body(body);
}

/**
 * Serves the built admin console (`vite build` output) at `/`: its files as they are, and
 * `index.html` for any other GET a browser navigates to (client-side routes such as
 * `/tenants/ten_…/keys`). Reserved paths fall through to the rest of the app. When the console
 * has not been built, `/` says how to build it instead of a bare 404.
 *
 * @example
 * app.use(serveConsole(config.CONSOLE_DIR));
 */
export function serveConsole(consoleDir: string): MiddlewareHandler {
  const root = path.resolve(consoleDir);
  return async (c, next) => {
    if ((c.req.method !== "GET" && c.req.method !== "HEAD") || isReservedPath(c.req.path)) return next();
    const file = await fileIn(root, c.req.path);
    // Vite's hashed assets never change under the same name; index.html must always be fresh.
    if (file && !file.endsWith("index.html")) {
      const isHashed = c.req.path.startsWith("/assets/");
      return sendFile(c, file, isHashed ? "public, max-age=31536000, immutable" : "no-cache");
    }
    // A missing asset is a 404, not the app's HTML served as a script.
    if (path.extname(c.req.path) !== "" && !c.req.path.endsWith(".html")) return next();
    const index = path.join(root, "index.html");
    if (!existsSync(index)) {
      if (c.req.path !== "/") return next();
      return c.text(
        `The admin console is not built. Build it with \`pnpm --filter @vdb/console build\` (looked in ${root}).`,
        503,
      );
    }
    return sendFile(c, index, "no-cache");
  };
}
