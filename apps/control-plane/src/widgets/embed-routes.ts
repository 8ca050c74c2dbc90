import { AppError, toHttpError } from "@vdb/http/errors";
import { MAX_QUESTION_CHARS } from "@vdb/schemas/chat";
import type { Context } from "hono";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { credentialFrom } from "../auth/authenticate";
import { answerResponse } from "../chat/answer-response";
import { type AppEnv, ctxOf } from "../http/env";
import type { Services } from "../services";
import { isOriginAllowed, normalizeOrigin } from "./allowed-origin";
import { askAsVisitor } from "./ask-as-visitor";
import { authenticateVisitor } from "./authenticate-visitor";
import { findPublicWidget } from "./find-public-widget";
import { getVisitorConversation } from "./get-visitor-conversation";
import { issueEmbedToken } from "./issue-embed-token";
import { WidgetRateLimitError } from "./visitor-rate-limit";
import { resolveWidgetDistDir, type WidgetAssetPath, widgetAssetReader } from "./widget-assets";

/** Paths of the public routes visitors' browsers call (no API key: embed tokens). */
export const EMBED_ROUTE_PREFIX = "/embed/";

const WIDGET_PATH = /^\/embed\/widgets\/([^/]+)\//;

/** The widget a request is about: `/embed/widgets/{id}/…`, or `?widgetId=` (the token route). */
function widgetIdOf(c: Context<AppEnv>): string | null {
  return WIDGET_PATH.exec(c.req.path)?.[1] ?? c.req.query("widgetId") ?? null;
}

/**
 * CORS for the embed routes: a page whose Origin the widget lists (and only while it is enabled)
 * gets `Access-Control-Allow-Origin` for itself. Any other page may read refusals only (4xx/5xx
 * error bodies: no token, no answer), so the site's developer sees why in the browser's console
 * instead of an opaque CORS failure; its preflights are refused. The routes check the Origin
 * again themselves: CORS only protects browsers' users, not the server.
 */
const embedCors = createMiddleware<AppEnv>(async (c, next) => {
  const origin = normalizeOrigin(c.req.header("origin"));
  const widgetId = widgetIdOf(c);
  let isAllowed = false;
  if (origin && widgetId) {
    try {
      const widget = await findPublicWidget(c.get("services").db, widgetId);
      isAllowed = widget.enabled && isOriginAllowed(widget.allowedOrigins, origin);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
    }
  }
  const allowReading = () => {
    if (!origin) return;
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Access-Control-Expose-Headers", "Retry-After, X-Request-Id");
  };
  if (isAllowed) allowReading();
  c.header("Vary", "Origin");
  if (c.req.method === "OPTIONS") {
    if (!isAllowed) {
      const { status, body } = toHttpError(
        new AppError({ code: "FORBIDDEN", message: "This widget is not available on this site" }),
        c.get("requestId"),
      );
      return c.json(body, status as 403);
    }
    c.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    c.header("Access-Control-Allow-Headers", "authorization, content-type");
    c.header("Access-Control-Max-Age", "600");
    return c.body(null, 204);
  }
  await next();
  if (!isAllowed && c.res.status >= 400) allowReading();
});

async function jsonBodyOf(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  // Read as text whatever the content type: the widget posts its token request as text/plain,
  // a "simple" request, so a refused page is refused by the server itself (403), not by a preflight.
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new AppError({ code: "BAD_REQUEST", message: "The body must be a JSON object" });
}

function bearerOf(c: Context<AppEnv>): string | null {
  return credentialFrom({ authorization: c.req.header("authorization") });
}

/**
 * The routes a widget on a tenant's site uses:
 * - `POST /embed/token` (`{ widgetId, visitorId? }`, or `?widgetId=`): a short-lived embed token;
 * - `POST /embed/widgets/{widgetId}/chat` (`{ message, sessionId? }`): the answer, streamed as
 *   server-sent events with `Accept: text/event-stream` (`token`… then `done`, or `error`);
 * - `GET /embed/widgets/{widgetId}/conversation[?sessionId=]`: the visitor's own conversation;
 * - `GET /widget.js` (the loader) and `GET /widget/core.js` (the widget), from `apps/widget/dist`.
 */
export function embedRoutes(services: Services) {
  const readAsset = widgetAssetReader(resolveWidgetDistDir(services.config.WIDGET_DIST_DIR));
  const app = new Hono<AppEnv>();

  app.onError((error, c) => {
    if (error instanceof WidgetRateLimitError) c.header("Retry-After", String(error.retryAfterSeconds));
    const { status, body } = toHttpError(error, c.get("requestId") ?? "unknown");
    if (status >= 500) c.get("logger").error({ err: error }, "embed request failed");
    return c.json(body, status as 400);
  });

  app.use("/embed/*", embedCors);

  app.post("/embed/token", async (c) => {
    const body = await jsonBodyOf(c);
    const fromQuery = c.req.query("widgetId");
    if (fromQuery && body.widgetId !== undefined && body.widgetId !== fromQuery) {
      throw new AppError({ code: "BAD_REQUEST", message: "widgetId differs between the query and the body" });
    }
    const input = { ...body, widgetId: body.widgetId ?? fromQuery } as {
      widgetId: string;
      visitorId?: string;
    };
    const issued = await issueEmbedToken({
      ctx: ctxOf(c),
      input: { ...input, origin: c.req.header("origin") },
    });
    c.header("Cache-Control", "no-store");
    return c.json(issued, 200);
  });

  app.post("/embed/widgets/:widgetId/chat", async (c) => {
    const ctx = ctxOf(c);
    const visitor = await authenticateVisitor({
      ctx,
      input: { widgetId: c.req.param("widgetId"), token: bearerOf(c), origin: c.req.header("origin") },
    });
    const input = (await jsonBodyOf(c)) as { message: string; sessionId?: string };
    if (typeof input.message === "string" && input.message.length > MAX_QUESTION_CHARS) {
      throw new AppError({
        code: "PAYLOAD_TOO_LARGE",
        message: `A message may have at most ${MAX_QUESTION_CHARS.toLocaleString("en")} characters`,
      });
    }
    const abort = new AbortController();
    return answerResponse(c, askAsVisitor({ ctx, visitor, input, signal: abort.signal }), abort);
  });

  app.get("/embed/widgets/:widgetId/conversation", async (c) => {
    const ctx = ctxOf(c);
    const visitor = await authenticateVisitor({
      ctx,
      input: { widgetId: c.req.param("widgetId"), token: bearerOf(c), origin: c.req.header("origin") },
    });
    c.header("Cache-Control", "no-store");
    return c.json(
      await getVisitorConversation({ ctx, visitor, input: { sessionId: c.req.query("sessionId") } }),
    );
  });

  const serveAsset = (asset: WidgetAssetPath) => async (c: Context<AppEnv>) => {
    const content = await readAsset(asset);
    return c.body(new Uint8Array(content), 200, {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": "public, max-age=300",
      // Pages that isolate themselves (COEP) may still load the widget.
      "Cross-Origin-Resource-Policy": "cross-origin",
    });
  };
  app.get("/widget.js", serveAsset("/widget.js"));
  app.get("/widget/core.js", serveAsset("/widget/core.js"));
  return app;
}
