import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { errorResponses, jsonContent } from "@vdb/http/openapi";
import { ChatSessionId } from "@vdb/schemas/chat";
import {
  EmbedTokenRequest,
  EmbedTokenResponse,
  VisitorConversation,
  WidgetChatInput,
  WidgetId,
} from "@vdb/schemas/widgets";
import { ANSWER_RESPONSE } from "../chat/answer-response";
import type { AppEnv } from "../http/env";

const tags = ["Widget visitors"];
const EMBED_SECURITY = [{ embedToken: [] }];
const WidgetParams = z.object({ widgetId: WidgetId });

const VISITOR_ERRORS = errorResponses({
  401: "Missing, forged or expired embed token, or one for another widget: fetch a new one",
  403: "This page's Origin may not use the widget (or the token was issued to another Origin)",
  413: "The message is too long",
  429: "Too many requests from this widget or this visitor (see Retry-After)",
});

const token = createRoute({
  method: "post",
  path: "/embed/token",
  tags,
  summary: "An embed token for a widget, for a page whose Origin the widget allows (no API key)",
  description: `Called by the widget from the tenant's site; the browser's \`Origin\` header decides. The body may be
sent as \`text/plain\` (a CORS "simple" request, so a refused site is refused by this server, not by a
preflight); \`widgetId\` may be given as \`?widgetId=\` instead. The token is chat-only, bound to the widget, the
Origin and the visitor id, and lives \`EMBED_TOKEN_TTL_SECONDS\` (10 minutes by default).`,
  request: {
    query: z.object({ widgetId: WidgetId.optional() }),
    body: {
      content: {
        "application/json": { schema: EmbedTokenRequest },
        "text/plain": { schema: EmbedTokenRequest },
      },
      required: false,
    },
  },
  responses: { 200: jsonContent(EmbedTokenResponse, "The token and the widget's look"), ...VISITOR_ERRORS },
});

const chat = createRoute({
  method: "post",
  path: "/embed/widgets/{widgetId}/chat",
  tags,
  summary: "A visitor's question, answered from the widget's collection (streamed with SSE)",
  description: `With \`Accept: text/event-stream\` the answer streams as \`token\` events, then one \`done\` event with
the stored answer, or an \`error\` event with the usual error body. The session must be the visitor's own.`,
  security: EMBED_SECURITY,
  request: {
    params: WidgetParams,
    body: { content: { "application/json": { schema: WidgetChatInput } }, required: true },
  },
  responses: {
    200: ANSWER_RESPONSE,
    ...VISITOR_ERRORS,
  },
});

const conversation = createRoute({
  method: "get",
  path: "/embed/widgets/{widgetId}/conversation",
  tags,
  summary: "The visitor's own conversation (the named one, or the latest), to show after a reload",
  security: EMBED_SECURITY,
  request: { params: WidgetParams, query: z.object({ sessionId: ChatSessionId.optional() }) },
  responses: { 200: jsonContent(VisitorConversation, "The conversation, oldest first"), ...VISITOR_ERRORS },
});

/**
 * Adds the visitors' routes (`embedRoutes`) to an API's OpenAPI document. They are served at the
 * root, not under the API's `/api/v1`, and read their bodies themselves (the token route takes
 * `text/plain`), so they are only described here: each operation names the root as its server.
 */
export function documentEmbedRoutes(api: OpenAPIHono<AppEnv>, publicUrl: string): void {
  api.openAPIRegistry.registerComponent("securitySchemes", "embedToken", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "An embed token from `POST /embed/token`, sent from the Origin it was issued to",
  });
  const servers = [{ url: publicUrl }];
  for (const route of [token, chat, conversation]) {
    api.openAPIRegistry.registerPath({ ...route, servers });
  }
}
