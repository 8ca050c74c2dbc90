import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OpenAPIHono } from "@hono/zod-openapi";
import { answerErrorsAsJson } from "@vdb/http/app-defaults";
import { toAppError } from "@vdb/http/errors";
import type { ChatAnswer, ChatStreamEvent } from "@vdb/schemas/chat";
import type { ErrorBody } from "@vdb/schemas/errors";
import { newId } from "@vdb/schemas/ids";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate } from "../auth/authenticate";
import { authenticateRequest } from "../http/authenticate-request";
import type { AppEnv } from "../http/env";
import { requestContext } from "../http/request-context";
import type { Ctx } from "../lib/context";
import type { Services } from "../services";
import { ingestText, startTestServer, type TestServer } from "../testing";
import { api, trpcLiveAs, watchUntil } from "../testing/http";
import { createCallerFactory, router } from "../trpc/trpc";
import { askQuestion, streamAnswer } from "./ask-question";
import { deleteSession } from "./delete-session";
import { EXTRACTIVE_INTRO, NOT_FOUND_ANSWER } from "./extractive-answer";
import { getSession } from "./get-session";
import { listSessions } from "./list-sessions";
import { SYSTEM_PROMPT } from "./openai-answer-writer";
import { chatRest } from "./rest";
import { chatRouter } from "./router";

const VACATION =
  "Employees receive 30 days of paid vacation per year. Vacation requests go through the HR portal two weeks ahead.";
const PARKING =
  "Parking is free in garage B for all staff. Bicycles are stored in the basement next to the showers.";
const VACATION_QUESTION = "How many days of paid vacation do employees get?";

let server: TestServer;
let tenantId: string;
let otherTenantId: string;
let readKey: string;
let otherKey: string;
let vacationId: string;
let parkingId: string;
let operatorCtx: Ctx;
let llm: Awaited<ReturnType<typeof startLlmStub>>;
let llmCtx: Ctx;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

interface StubRequest {
  authorization: string | undefined;
  body: { model: string; stream?: boolean; messages: { role: string; content: string }[] };
}

/**
 * An OpenAI-compatible chat server: `POST /v1/chat/completions` answers with the first sentence
 * of the prompt's source [1], citing it, streamed as SSE chunks (the marker split across two).
 */
async function startLlmStub() {
  const requests: StubRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" });
      return res.end(JSON.stringify({ error: { message: "not found" } }));
    }
    const body = JSON.parse(await readBody(req)) as StubRequest["body"];
    requests.push({ authorization: req.headers.authorization, body });
    const prompt = body.messages.at(-1)?.content ?? "";
    const source = /^\[1\][^\n]*\n([^\n]*)/m.exec(prompt)?.[1] ?? "";
    const sentence = source.split(/(?<=\.)\s/)[0] ?? "";
    const pieces = ["According to your documents: ", sentence.replace(/\.$/, ""), " [", "1", "]", "."];
    if (!body.stream) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({
          id: "cmpl-1",
          object: "chat.completion",
          created: 0,
          model: body.model,
          choices: [
            { index: 0, message: { role: "assistant", content: pieces.join("") }, finish_reason: "stop" },
          ],
        }),
      );
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({
        id: "cmpl-1",
        object: "chat.completion.chunk",
        created: 0,
        model: body.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      })}\n\n`;
    res.write(chunk({ role: "assistant", content: "" }, null));
    for (const piece of pieces) {
      res.write(chunk({ content: piece }, null));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    res.write(chunk({}, "stop"));
    res.end("data: [DONE]\n\n");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The control plane's services, but with an LLM configured (as LLM_* in the environment would). */
function withLlm(services: Services, baseURL: string): Services {
  const config = {
    ...services.config,
    LLM_BASE_URL: baseURL,
    LLM_MODEL: "stub-model",
    LLM_API_KEY: "sk-stub",
  };
  return { ...services, config };
}

/** The chat REST routes as the control plane serves them: request context, auth, JSON errors. */
function chatApp(services: Services) {
  const app = new OpenAPIHono<AppEnv>();
  app.use(requestContext(services));
  app.use(authenticateRequest);
  app.route("/", chatRest);
  answerErrorsAsJson(app, services.logger);
  return app;
}

async function post(
  app: ReturnType<typeof chatApp>,
  path: string,
  token: string,
  body: unknown,
  accept?: string,
) {
  return app.request(path, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      ...(accept ? { accept } : {}),
    },
    body: JSON.stringify(body),
  });
}

/** Parses a server-sent event stream into its events' names and JSON data. */
function parseSse(text: string): { event: string; data: unknown }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event =
        lines
          .find((line) => line.startsWith("event:"))
          ?.slice(6)
          .trim() ?? "message";
      const data = lines
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      return { event, data: JSON.parse(data) };
    });
}

async function keyFor(tenant: string, scopes: string[]): Promise<string> {
  const key = await api(server.url, "POST", `/tenants/${tenant}/keys`, {
    token: server.adminToken,
    body: { name: "chat", scopes },
  });
  return key.body.secret;
}

beforeAll(async () => {
  server = await startTestServer({ env: { INSTANCE_DIMENSION: "128" } });
  const tenant = async (slug: string) =>
    (await api(server.url, "POST", "/tenants", { token: server.adminToken, body: { slug, name: slug } })).body
      .id as string;
  tenantId = await tenant("chat-docs");
  otherTenantId = await tenant("chat-other");
  readKey = await keyFor(tenantId, ["read"]);
  otherKey = await keyFor(otherTenantId, ["read", "write"]);
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await watchUntil(
    trpcLiveAs(server.url, server.adminToken),
    tenantId,
    (instance) => instance?.state === "running",
  );
  vacationId = await ingestText(server, tenantId, "Vacation policy", VACATION);
  parkingId = await ingestText(server, tenantId, "Parking", PARKING);
  const principal = await authenticate(server.services, server.adminToken);
  const request = { requestId: "req-chat-test", ip: null, userAgent: null };
  operatorCtx = { services: server.services, principal, request };
  llm = await startLlmStub();
  llmCtx = { ...operatorCtx, services: withLlm(server.services, llm.baseURL) };
}, 120_000);
afterAll(async () => {
  await llm?.close();
  await server?.close();
});

describe("chat without an LLM: extractive answers", () => {
  it("answers from the right document and chunk, says it is extractive, and stores the turn", async () => {
    const answer = await askQuestion({ ctx: operatorCtx, input: { tenantId, message: VACATION_QUESTION } });
    expect(answer.mode).toBe("extractive");
    expect(answer.answer.split("\n")[0]).toBe(EXTRACTIVE_INTRO);
    expect(answer.answer).toContain("Employees receive 30 days of paid vacation per year. [1]");
    expect(answer.answer).not.toMatch(/garage/);
    expect(answer.citations[0]).toMatchObject({
      n: 1,
      documentId: vacationId,
      chunkId: `${vacationId}:0`,
      title: "Vacation policy",
      page: null,
      heading: null,
    });
    expect(answer.citations[0]!.snippet).toContain("30 days");
    expect(answer.citations[0]!.score).toBeGreaterThan(0);
    // Only cited sources are listed, numbered 1..n.
    expect(answer.citations.map((citation) => citation.n)).toEqual(
      answer.citations.map((_, index) => index + 1),
    );
    for (const citation of answer.citations) expect(answer.answer).toContain(`[${citation.n}]`);

    const followUp = await askQuestion({
      ctx: operatorCtx,
      input: { tenantId, sessionId: answer.sessionId, message: "Is parking free in the garage?" },
    });
    expect(followUp.sessionId).toBe(answer.sessionId);
    expect(followUp.citations[0]).toMatchObject({ n: 1, documentId: parkingId, chunkId: `${parkingId}:0` });
    expect(followUp.answer).toContain("Parking is free in garage B for all staff. [1]");

    const session = await getSession({ ctx: operatorCtx, input: { tenantId, sessionId: answer.sessionId } });
    expect(session.title).toBe(VACATION_QUESTION);
    expect(session.createdBy).toBe(
      operatorCtx.principal?.kind === "user" ? operatorCtx.principal.userId : null,
    );
    expect(session.messages.map((message) => [message.role, message.mode])).toEqual([
      ["user", null],
      ["assistant", "extractive"],
      ["user", null],
      ["assistant", "extractive"],
    ]);
    expect(session.messages[0]!.content).toBe(VACATION_QUESTION);
    expect(session.messages[1]).toMatchObject({
      id: answer.messageId,
      content: answer.answer,
      citations: answer.citations,
    });
    expect(session.messages[3]!.id).toBe(followUp.messageId);

    const listed = await listSessions({ ctx: operatorCtx, input: { tenantId } });
    expect(listed.items[0]).toMatchObject({ id: answer.sessionId, title: VACATION_QUESTION });
  });

  it("scores citations on one scale in every search mode: similarity, or BM25 relative to the best", async () => {
    const byMode = async (searchMode: "vector" | "keyword" | "hybrid") =>
      (await askQuestion({ ctx: operatorCtx, input: { tenantId, message: VACATION_QUESTION, searchMode } }))
        .citations;
    const vector = await byMode("vector");
    const hybrid = await byMode("hybrid");
    // The same passage's similarity to the question, whether or not the keyword search found it too.
    expect(hybrid[0]!.chunkId).toBe(vector[0]!.chunkId);
    expect(hybrid[0]!.score).toBeCloseTo(vector[0]!.score, 5);
    for (const citation of [...vector, ...hybrid]) {
      expect(citation.score).toBeGreaterThan(0);
      expect(citation.score).toBeLessThanOrEqual(1);
    }
    const keyword = await byMode("keyword");
    expect(keyword[0]).toMatchObject({ chunkId: `${vacationId}:0`, score: 1 });
    for (const citation of keyword) {
      expect(citation.score).toBeGreaterThan(0);
      expect(citation.score).toBeLessThanOrEqual(1);
    }
  });

  it("says it could not find the answer, with no citations, when nothing relevant is retrieved", async () => {
    const filtered = await askQuestion({
      ctx: operatorCtx,
      input: { tenantId, message: VACATION_QUESTION, where: { documentId: newId("document") } },
    });
    expect(filtered).toMatchObject({ answer: NOT_FOUND_ANSWER, citations: [], mode: "extractive" });
    const unrelated = await askQuestion({
      ctx: operatorCtx,
      input: { tenantId, message: "What is the airspeed of an unladen swallow?" },
    });
    expect(unrelated).toMatchObject({ answer: NOT_FOUND_ANSWER, citations: [] });
    const stored = await getSession({ ctx: operatorCtx, input: { tenantId, sessionId: filtered.sessionId } });
    expect(stored.messages.map((message) => message.content)).toEqual([VACATION_QUESTION, NOT_FOUND_ANSWER]);
  });

  it("streams over REST as server-sent events when asked to, else answers JSON", async () => {
    const app = chatApp(server.services);
    const json = await post(app, "/chat", readKey, { message: "Where are bicycles stored?" });
    expect(json.status).toBe(200);
    const answer = (await json.json()) as ChatAnswer;
    expect(answer.citations[0]).toMatchObject({ documentId: parkingId });
    expect(answer.answer).toContain("Bicycles are stored in the basement next to the showers. [1]");

    const streamed = await post(
      app,
      "/chat",
      readKey,
      { message: "Where are bicycles stored?" },
      "text/event-stream",
    );
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = parseSse(await streamed.text());
    expect(events.map((event) => event.event)).toEqual(["token", "done"]);
    const done = events[1]!.data as Extract<ChatStreamEvent, { type: "done" }>;
    expect((events[0]!.data as { text: string }).text).toBe(done.answer);
    expect(done).toMatchObject({ type: "done", mode: "extractive", answer: answer.answer });
  });
});

describe("chat with an OpenAI-compatible LLM (the real openai SDK against a local stub)", () => {
  it("streams the model's tokens in order and stores the answer, whose [1] is the passage asked about", async () => {
    const before = llm.requests.length;
    const events: ChatStreamEvent[] = [];
    for await (const event of streamAnswer({
      ctx: llmCtx,
      input: { tenantId, message: VACATION_QUESTION },
    })) {
      events.push(event);
    }
    const tokens = events.filter((event) => event.type === "token").map((event) => event.text);
    const done = events.at(-1) as Extract<ChatStreamEvent, { type: "done" }>;
    expect(done.type).toBe("done");
    // The split marker "[", "1", "]" is held back until whole, then sent with its final number.
    expect(tokens).toEqual([
      "According to your documents: ",
      "Employees receive 30 days of paid vacation per year",
      " [1]",
      ".",
    ]);
    expect(tokens.join("")).toBe(done.answer);
    expect(done.mode).toBe("llm");
    expect(done.citations).toEqual([
      expect.objectContaining({
        n: 1,
        documentId: vacationId,
        chunkId: `${vacationId}:0`,
        title: "Vacation policy",
      }),
    ]);

    expect(llm.requests).toHaveLength(before + 1);
    const sent = llm.requests.at(-1)!;
    expect(sent.authorization).toBe("Bearer sk-stub");
    expect(sent.body).toMatchObject({ model: "stub-model", stream: true });
    expect(sent.body.messages[0]).toEqual({ role: "system", content: SYSTEM_PROMPT });
    expect(sent.body.messages.at(-1)!.content).toMatch(
      /^Sources:\n\n\[1\] Vacation policy\nEmployees receive 30 days/,
    );
    expect(sent.body.messages.at(-1)!.content.endsWith(`\n\nQuestion: ${VACATION_QUESTION}`)).toBe(true);

    const session = await getSession({ ctx: operatorCtx, input: { tenantId, sessionId: done.sessionId } });
    expect(session.messages[1]).toMatchObject({
      id: done.messageId,
      role: "assistant",
      mode: "llm",
      content: done.answer,
      citations: done.citations,
    });
  });

  it("sends the session's earlier turns, without their markers, and answers over REST too", async () => {
    const first = await askQuestion({ ctx: llmCtx, input: { tenantId, message: VACATION_QUESTION } });
    const app = chatApp(llmCtx.services);
    const response = await post(
      app,
      `/chat?tenantId=${tenantId}`,
      server.adminToken,
      { sessionId: first.sessionId, message: "And how do I request vacation?" },
      "text/event-stream",
    );
    const events = parseSse(await response.text());
    expect(events.at(-1)).toMatchObject({ event: "done", data: { mode: "llm", sessionId: first.sessionId } });
    const messages = llm.requests.at(-1)!.body.messages;
    expect(messages.slice(1, 3)).toEqual([
      { role: "user", content: VACATION_QUESTION },
      { role: "assistant", content: first.answer.replace(" [1]", "") },
    ]);
  });

  it("does not call the model when nothing is retrieved", async () => {
    const before = llm.requests.length;
    const answer = await askQuestion({
      ctx: llmCtx,
      input: { tenantId, message: VACATION_QUESTION, where: { documentId: newId("document") } },
    });
    expect(answer).toMatchObject({ answer: NOT_FOUND_ANSWER, citations: [] });
    expect(llm.requests).toHaveLength(before);
  });

  it("a model that does not answer is a SERVICE_UNAVAILABLE that stores nothing", async () => {
    const down = { ...operatorCtx, services: withLlm(server.services, "http://127.0.0.1:9/v1") };
    const sessionsBefore = (await listSessions({ ctx: operatorCtx, input: { tenantId, limit: 100 } })).items
      .length;
    const failure = await askQuestion({ ctx: down, input: { tenantId, message: VACATION_QUESTION } }).catch(
      (error: unknown) => error,
    );
    expect(toAppError(failure)).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    expect(toAppError(failure).message).not.toContain("sk-stub");
    const sessionsAfter = (await listSessions({ ctx: operatorCtx, input: { tenantId, limit: 100 } })).items
      .length;
    expect(sessionsAfter).toBe(sessionsBefore);
  });
});

describe("chat over tRPC", () => {
  it("asks, streams and manages sessions through the router", async () => {
    const caller = createCallerFactory(router({ chat: chatRouter }))({
      principal: operatorCtx.principal,
      request: operatorCtx.request,
      credential: null,
      authFailure: null,
      services: llmCtx.services,
    });
    const asked = await caller.chat.ask({ tenantId, message: VACATION_QUESTION });
    expect(asked).toMatchObject({ mode: "llm", citations: [{ n: 1, documentId: vacationId }] });
    const events: ChatStreamEvent[] = [];
    for await (const event of await caller.chat.stream({
      tenantId,
      sessionId: asked.sessionId,
      message: "Why?",
    })) {
      events.push(event);
    }
    expect(events.at(-1)).toMatchObject({ type: "done", sessionId: asked.sessionId, mode: "llm" });
    const session = await caller.chat.sessions.get({ tenantId, sessionId: asked.sessionId });
    expect(session.messages).toHaveLength(4);
    const page = await caller.chat.sessions.list({ tenantId, limit: 1 });
    expect(page.items[0]!.id).toBe(asked.sessionId);
    expect(page.nextCursor).not.toBeNull();
    const next = await caller.chat.sessions.list({ tenantId, limit: 100, cursor: page.nextCursor! });
    expect(next.items.map((item) => item.id)).not.toContain(asked.sessionId);
    await caller.chat.sessions.delete({ tenantId, sessionId: asked.sessionId });
    await expect(caller.chat.sessions.get({ tenantId, sessionId: asked.sessionId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(caller.chat.ask({ tenantId, message: "x".repeat(4_001) })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });
});

describe("chat isolation and validation", () => {
  it("another tenant's credential is refused, and another tenant's session is not found", async () => {
    const app = chatApp(server.services);
    const { sessionId } = await askQuestion({
      ctx: operatorCtx,
      input: { tenantId, message: VACATION_QUESTION },
    });

    const ask = await post(app, `/chat?tenantId=${tenantId}`, otherKey, { message: VACATION_QUESTION });
    expect(ask.status).toBe(403);
    const peek = await app.request(`/tenants/${tenantId}/chat/sessions/${sessionId}`, {
      headers: { authorization: `Bearer ${otherKey}` },
    });
    expect(peek.status).toBe(403);
    const list = await app.request(`/tenants/${tenantId}/chat/sessions`, {
      headers: { authorization: `Bearer ${otherKey}` },
    });
    expect(list.status).toBe(403);
    // Under its own tenant, the other tenant's session id names nothing.
    const continued = await post(app, "/chat", otherKey, { sessionId, message: VACATION_QUESTION });
    expect(continued.status).toBe(404);
    expect(((await continued.json()) as ErrorBody).error.code).toBe("NOT_FOUND");
    const crossed = await app.request(`/tenants/${otherTenantId}/chat/sessions/${sessionId}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(crossed.status).toBe(404);

    // A read key may read the tenant's sessions but not delete them.
    const read = await app.request(`/tenants/${tenantId}/chat/sessions/${sessionId}`, {
      headers: { authorization: `Bearer ${readKey}` },
    });
    expect(read.status).toBe(200);
    const refused = await app.request(`/tenants/${tenantId}/chat/sessions/${sessionId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${readKey}` },
    });
    expect(refused.status).toBe(403);
    await expect(deleteSession({ ctx: operatorCtx, input: { tenantId, sessionId } })).resolves.toEqual({
      deleted: true,
    });
    const gone = await app.request(`/tenants/${tenantId}/chat/sessions/${sessionId}`, {
      headers: { authorization: `Bearer ${readKey}` },
    });
    expect(gone.status).toBe(404);
  });

  it("a tenant without a running instance gets the instance's error", async () => {
    const failure = await askQuestion({
      ctx: operatorCtx,
      input: { tenantId: otherTenantId, message: VACATION_QUESTION },
    }).catch((error: unknown) => error);
    expect(toAppError(failure)).toMatchObject({
      code: "CONFLICT",
      message: expect.stringMatching(/no instance/),
    });
  });

  it("rejects an empty or huge message and a bad nResults as VALIDATION_FAILED", async () => {
    const app = chatApp(server.services);
    for (const body of [
      { message: "" },
      { message: "   " },
      { message: "x".repeat(4_001) },
      { message: "hi", nResults: 0 },
      { message: "hi", nResults: 21 },
    ]) {
      const response = await post(app, "/chat", readKey, body);
      expect(response.status, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(((await response.json()) as ErrorBody).error.code).toBe("VALIDATION_FAILED");
    }
    const direct = await askQuestion({ ctx: operatorCtx, input: { tenantId, message: "" } }).catch(
      (error: unknown) => error,
    );
    expect(toAppError(direct).code).toBe("VALIDATION_FAILED");
  });
});
