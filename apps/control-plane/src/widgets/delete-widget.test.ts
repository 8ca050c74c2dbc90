import type { AuditEntry } from "@vdb/schemas/audit";
import type { ChatAnswer, ChatSession } from "@vdb/schemas/chat";
import type { ErrorBody } from "@vdb/schemas/errors";
import { newId } from "@vdb/schemas/ids";
import type { EmbedTokenResponse, Widget } from "@vdb/schemas/widgets";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { streamAnswer } from "../chat/ask-question";
import type { Ctx } from "../lib/context";
import { chatMessages } from "../lib/db/schema";
import { ingestText, seedTenant, startTestServer, type TestServer } from "../testing";
import { api, trpcAs, trpcLiveAs, watchUntil } from "../testing/http";

const SHOP = "https://shop.example";
const VACATION =
  "Employees receive 30 days of paid vacation per year. Vacation requests go through the HR portal two weeks ahead.";

let server: TestServer;
let tenantId: string;

/** A visitor of `widget` on SHOP asks one question; returns the visitor's token and the answer. */
async function visitorAsks(widget: Widget, message: string) {
  const issued = await server.app.request(`/embed/token?widgetId=${widget.id}`, {
    method: "POST",
    headers: { "content-type": "text/plain", origin: SHOP },
    body: JSON.stringify({ widgetId: widget.id }),
  });
  expect(issued.status).toBe(200);
  const { token } = (await issued.json()) as EmbedTokenResponse;
  const answered = await server.app.request(`/embed/widgets/${widget.id}/chat`, {
    method: "POST",
    headers: { origin: SHOP, authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ message }),
  });
  expect(answered.status).toBe(200);
  return { token, answer: (await answered.json()) as ChatAnswer };
}

async function sessionsOfTenant(): Promise<ChatSession[]> {
  const listed = await api<{ items: ChatSession[] }>(
    server.url,
    "GET",
    `/tenants/${tenantId}/chat/sessions?limit=100`,
    { token: server.adminToken },
  );
  expect(listed.status).toBe(200);
  return listed.body.items;
}

beforeAll(async () => {
  server = await startTestServer();
  tenantId = (await seedTenant(server.services, "widget-delete", "pro")).id;
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await watchUntil(trpcLiveAs(server.url, server.adminToken), tenantId, (i) => i?.state === "running");
  await ingestText(server, tenantId, "Vacation policy", VACATION);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("deleting a widget", () => {
  it("deletes its visitors' conversations with it, keeps every other session, and audits how many", async () => {
    const admin = trpcAs(server.url, server.adminToken);
    const doomed = await admin.widgets.create.mutate({ tenantId, name: "Old site", allowedOrigins: [SHOP] });
    const kept = await admin.widgets.create.mutate({ tenantId, name: "New site", allowedOrigins: [SHOP] });
    const fromDoomed = await visitorAsks(doomed, "How many days of paid vacation do employees get?");
    const fromKept = await visitorAsks(kept, "How are vacation requests made?");
    const fromConsole = await api<ChatAnswer>(server.url, "POST", `/chat?tenantId=${tenantId}`, {
      token: server.adminToken,
      body: { message: "How many vacation days are there?" },
    });
    expect(fromConsole.status).toBe(200);

    // The tenant's session list tells visitors' conversations (and their widget) from the others.
    const before = await sessionsOfTenant();
    expect(Object.fromEntries(before.map((s) => [s.id, s.widgetId]))).toEqual({
      [fromDoomed.answer.sessionId]: doomed.id,
      [fromKept.answer.sessionId]: kept.id,
      [fromConsole.body.sessionId]: null,
    });

    await admin.widgets.delete.mutate({ tenantId, widgetId: doomed.id });

    const after = await sessionsOfTenant();
    expect(after.map((s) => s.id).sort()).toEqual(
      [fromKept.answer.sessionId, fromConsole.body.sessionId].sort(),
    );
    const gone = await api<ErrorBody>(
      server.url,
      "GET",
      `/tenants/${tenantId}/chat/sessions/${fromDoomed.answer.sessionId}`,
      { token: server.adminToken },
    );
    expect(gone.status).toBe(404);
    const [messages] = await server.services.db
      .select({ n: count() })
      .from(chatMessages)
      .where(eq(chatMessages.sessionId, fromDoomed.answer.sessionId));
    expect(messages?.n).toBe(0);

    // The visitor's token now reaches nothing: the widget itself is gone.
    const conversation = await server.app.request(`/embed/widgets/${doomed.id}/conversation`, {
      headers: { origin: SHOP, authorization: `Bearer ${fromDoomed.token}` },
    });
    expect(conversation.status).toBe(404);

    const audit = await api<{ items: AuditEntry[] }>(
      server.url,
      "GET",
      `/audit?tenantId=${tenantId}&action=widget.delete`,
      { token: server.adminToken },
    );
    expect(audit.body.items.map(({ targetId, metadata }) => ({ targetId, metadata }))).toEqual([
      { targetId: doomed.id, metadata: { deletedConversations: 1 } },
    ]);
  });

  it("a visitor whose widget is deleted while the answer is being written gets NOT_FOUND; nothing is stored", async () => {
    const admin = trpcAs(server.url, server.adminToken);
    const widget = await admin.widgets.create.mutate({
      tenantId,
      name: "Short-lived",
      allowedOrigins: [SHOP],
    });
    // The visitor's request was authenticated while the widget existed; it is deleted before the
    // answer is stored.
    await admin.widgets.delete.mutate({ tenantId, widgetId: widget.id });
    const ctx: Ctx = {
      services: server.services,
      principal: { kind: "apiKey", keyId: widget.id, tenantId, scopes: ["read"] },
      request: { requestId: newId("request"), ip: null, userAgent: null },
    };
    const sessionsBefore = (await sessionsOfTenant()).length;
    const drain = async () => {
      for await (const _event of streamAnswer({
        ctx,
        input: { tenantId, message: "How many days of paid vacation do employees get?" },
        visitor: { widgetId: widget.id, visitorId: `vis_${"a".repeat(24)}` },
      }));
    };
    await expect(drain()).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "This chat widget no longer exists",
    });
    expect((await sessionsOfTenant()).length).toBe(sessionsBefore);
  });

  it("deleting a widget nobody used deletes no conversation", async () => {
    const admin = trpcAs(server.url, server.adminToken);
    const unused = await admin.widgets.create.mutate({ tenantId, name: "Unused", allowedOrigins: [] });
    const before = await sessionsOfTenant();
    await admin.widgets.delete.mutate({ tenantId, widgetId: unused.id });
    expect(await sessionsOfTenant()).toEqual(before);
    const audit = await api<{ items: AuditEntry[] }>(
      server.url,
      "GET",
      `/audit?tenantId=${tenantId}&action=widget.delete`,
      { token: server.adminToken },
    );
    expect(audit.body.items.find((entry) => entry.targetId === unused.id)?.metadata).toEqual({
      deletedConversations: 0,
    });
  });
});
