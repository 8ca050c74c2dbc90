import { createRoute, z } from "@hono/zod-openapi";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { Deleted } from "@vdb/schemas/answers";
import {
  AskQuestionFields,
  ChatSession,
  ChatSessionId,
  ChatSessionWithMessages,
  ListChatSessionsInput,
} from "@vdb/schemas/chat";
import { TenantId } from "@vdb/schemas/ids";
import { pageOf } from "@vdb/schemas/pagination";
import { dataPlaneTenant } from "../data-plane/instance-client";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { ANSWER_RESPONSE, answerResponse } from "./answer-response";
import { streamAnswer } from "./ask-question";
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
    200: ANSWER_RESPONSE,
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
  responses: { 200: jsonContent(Deleted, "Deleted"), ...ERROR_RESPONSES },
});

export const chatRest = restApp()
  .openapi(ask, async (c) => {
    const ctx = ctxOf(c);
    const input = { ...c.req.valid("json"), tenantId: dataPlaneTenant(ctx, c.req.valid("query").tenantId) };
    const abort = new AbortController();
    return answerResponse(c, streamAnswer({ ctx, input, signal: abort.signal }), abort) as never;
  })
  .openapi(list, async (c) => {
    const input = { ...c.req.valid("query"), tenantId: c.req.valid("param").tenantId };
    return c.json(await listSessions({ ctx: ctxOf(c), input }), 200);
  })
  .openapi(get, async (c) => c.json(await getSession({ ctx: ctxOf(c), input: c.req.valid("param") }), 200))
  .openapi(remove, async (c) =>
    c.json(await deleteSession({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  );
