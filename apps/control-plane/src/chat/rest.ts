import { createRoute, z } from "@hono/zod-openapi";
import { toHttpError } from "@vdb/http/errors";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import {
  AskQuestionFields,
  ChatAnswer,
  ChatSession,
  ChatSessionId,
  ChatSessionWithMessages,
  ListChatSessionsInput,
} from "@vdb/schemas/chat";
import { TenantId } from "@vdb/schemas/ids";
import { pageOf } from "@vdb/schemas/pagination";
import { streamSSE } from "hono/streaming";
import { dataPlaneTenant } from "../data-plane/call-instance";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { askQuestion, streamAnswer } from "./ask-question";
import { deleteSession } from "./delete-session";
import { getSession } from "./get-session";
import { listSessions } from "./list-sessions";

const tags = ["Chat"];
const TenantParams = z.object({ tenantId: TenantId });
const SessionParams = TenantParams.extend({ sessionId: ChatSessionId });
const TenantQuery = z.object({ tenantId: TenantId.optional() });

const STREAM_DESCRIPTION = `With \`Accept: text/event-stream\` the answer streams as server-sent events: \`token\`
events (\`{"type":"token","text":…}\`, their texts concatenate to the answer, citation markers already final), then
one \`done\` event with the stored answer (\`{"type":"done", sessionId, messageId, answer, mode, citations}\`). An
error after the stream began arrives as an \`error\` event carrying the usual error body. Without an LLM configured
(\`mode: "extractive"\`) the answer quotes the passages and says so.`;

const ask = createRoute({
  method: "post",
  path: "/chat",
  tags,
  summary: "Seed `POST /chat`: ask the tenant's documents; an API key implies its tenant (else ?tenantId=)",
  description: STREAM_DESCRIPTION,
  security: SECURITY,
  request: { query: TenantQuery, ...jsonBody(AskQuestionFields) },
  responses: {
    200: {
      description: "The stored answer with its numbered citations (or its stream of events)",
      content: {
        "application/json": { schema: ChatAnswer },
        "text/event-stream": { schema: z.string().describe("`token` events, then `done` (or `error`)") },
      },
    },
    ...ERROR_RESPONSES,
  },
});

const list = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/chat/sessions",
  tags,
  summary: "List chat sessions, most recently active first",
  security: SECURITY,
  request: { params: TenantParams, query: ListChatSessionsInput.omit({ tenantId: true }) },
  responses: { 200: jsonContent(pageOf(ChatSession), "A page of sessions"), ...ERROR_RESPONSES },
});

const get = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/chat/sessions/{sessionId}",
  tags,
  summary: "A chat session with its questions and answers, oldest first",
  security: SECURITY,
  request: { params: SessionParams },
  responses: { 200: jsonContent(ChatSessionWithMessages, "The session"), ...ERROR_RESPONSES },
});

const remove = createRoute({
  method: "delete",
  path: "/tenants/{tenantId}/chat/sessions/{sessionId}",
  tags,
  summary: "Delete a chat session and its messages (needs the write scope)",
  security: SECURITY,
  request: { params: SessionParams },
  responses: { 200: jsonContent(z.object({ deleted: z.literal(true) }), "Deleted"), ...ERROR_RESPONSES },
});

const wantsEventStream = (accept: string | undefined) => accept?.includes("text/event-stream") ?? false;

export const chatRest = restApp()
  .openapi(ask, async (c) => {
    const ctx = ctxOf(c);
    const input = { ...c.req.valid("json"), tenantId: dataPlaneTenant(ctx, c.req.valid("query").tenantId) };
    if (!wantsEventStream(c.req.header("accept"))) return c.json(await askQuestion({ ctx, input }), 200);
    const abort = new AbortController();
    const events = streamAnswer({ ctx, input, signal: abort.signal });
    // Refusals come before the first event (validation, access, a stopped instance): those are
    // answered as ordinary JSON errors with their status, not as a stream.
    const first = await events.next();
    return streamSSE(c, async (sse) => {
      sse.onAbort(() => abort.abort());
      try {
        for (let next = first; !next.done; next = await events.next()) {
          await sse.writeSSE({ event: next.value.type, data: JSON.stringify(next.value) });
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        const { status, body } = toHttpError(error, c.get("requestId"));
        if (status >= 500) c.get("logger").error({ err: error }, "chat stream failed");
        await sse.writeSSE({ event: "error", data: JSON.stringify(body) });
      } finally {
        await events.return(undefined);
      }
    });
  })
  .openapi(list, async (c) => {
    const input = { ...c.req.valid("query"), tenantId: c.req.valid("param").tenantId };
    return c.json(await listSessions({ ctx: ctxOf(c), input }), 200);
  })
  .openapi(get, async (c) => c.json(await getSession({ ctx: ctxOf(c), input: c.req.valid("param") }), 200))
  .openapi(remove, async (c) =>
    c.json(await deleteSession({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  );
