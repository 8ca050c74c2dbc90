import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ErrorBody } from "@vdb/schemas/errors";
import type { EmbedTokenResponse, VisitorConversation, Widget } from "@vdb/schemas/widgets";
import { and, count, eq } from "drizzle-orm";
import { decodeJwt, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VISITOR_EXTRACTIVE_INTRO } from "../chat/extractive-answer";
import { chatSessions, usageEvents } from "../lib/db/schema";
import { ingestText, seedTenant, startTestServer, type TestServer } from "../testing";
import { api, trpcAs, trpcLiveAs, watchUntil } from "../testing/http";
import { newVisitorId } from "./issue-embed-token";

const SHOP = "https://shop.example";
const BLOG = "https://blog.example";
const EVIL = "https://evil.example";
const VACATION =
  "Employees receive 30 days of paid vacation per year. Vacation requests go through the HR portal two weeks ahead.";

let server: TestServer;
let distDir: string;
let tenantA: string;
let tenantB: string;
/** Tenant A's widget on SHOP and BLOG. */
let widgetA: Widget;
/** Tenant A's second widget (SHOP), and tenant B's widget (SHOP). */
let widgetA2: Widget;
let widgetB: Widget;
let disabledWidget: Widget;

interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

async function call<T = unknown>(
  pathname: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply<T>> {
  const response = await server.app.request(pathname, init);
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: response.status, headers: response.headers, body: body as T, text };
}

function requestToken(widgetId: string, origin: string | null, visitorId?: string) {
  return call<EmbedTokenResponse & ErrorBody>(`/embed/token?widgetId=${widgetId}`, {
    method: "POST",
    // text/plain, as the widget sends it (a CORS "simple" request).
    headers: { "content-type": "text/plain", ...(origin ? { origin } : {}) },
    body: JSON.stringify({ widgetId, ...(visitorId ? { visitorId } : {}) }),
  });
}

async function tokenFor(widgetId: string, origin: string, visitorId?: string): Promise<EmbedTokenResponse> {
  const issued = await requestToken(widgetId, origin, visitorId);
  expect(issued.status, issued.text).toBe(200);
  return issued.body;
}

function chat(
  widgetId: string,
  opts: { token: string; origin: string; body: unknown; stream?: boolean },
): Promise<Reply<ErrorBody & Record<string, unknown>>> {
  return call(`/embed/widgets/${widgetId}/chat`, {
    method: "POST",
    headers: {
      origin: opts.origin,
      authorization: `Bearer ${opts.token}`,
      "content-type": "application/json",
      ...(opts.stream ? { accept: "text/event-stream" } : {}),
    },
    body: JSON.stringify(opts.body),
  });
}

function conversation(widgetId: string, opts: { token: string; origin: string; sessionId?: string }) {
  const query = opts.sessionId ? `?sessionId=${opts.sessionId}` : "";
  return call<VisitorConversation & ErrorBody>(`/embed/widgets/${widgetId}/conversation${query}`, {
    headers: { origin: opts.origin, authorization: `Bearer ${opts.token}` },
  });
}

/** Rows a refused request must not have added. */
async function writtenRows(): Promise<{ sessions: number; chats: number }> {
  const db = server.services.db;
  const [sessions] = await db.select({ n: count() }).from(chatSessions);
  const [chats] = await db.select({ n: count() }).from(usageEvents).where(eq(usageEvents.kind, "chat"));
  return { sessions: sessions?.n ?? 0, chats: chats?.n ?? 0 };
}

function expectError(reply: Reply<unknown>, status: number, code: string) {
  expect(reply.status, reply.text).toBe(status);
  const body = reply.body as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toMatch(/\S/);
  expect(body.error.message).toMatch(/\S/);
}

beforeAll(async () => {
  distDir = mkdtempSync(path.join(tmpdir(), "vdb-widget-dist-"));
  writeFileSync(path.join(distDir, "widget.js"), "/* loader */");
  server = await startTestServer({ env: { WIDGET_DIST_DIR: distDir } });
  // Pro plans: the tests below ask for many tokens per second, more than a starter widget may.
  tenantA = (await seedTenant(server.services, "widget-a", "pro")).id;
  tenantB = (await seedTenant(server.services, "widget-b", "pro")).id;
  const admin = trpcAs(server.url, server.adminToken);
  widgetA = await admin.widgets.create.mutate({
    tenantId: tenantA,
    name: "Shop",
    allowedOrigins: [SHOP, BLOG],
  });
  widgetA2 = await admin.widgets.create.mutate({ tenantId: tenantA, name: "Second", allowedOrigins: [SHOP] });
  widgetB = await admin.widgets.create.mutate({ tenantId: tenantB, name: "B's", allowedOrigins: [SHOP] });
  disabledWidget = await admin.widgets.create.mutate({
    tenantId: tenantA,
    name: "Off",
    allowedOrigins: [SHOP],
    enabled: false,
  });
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId: tenantA } });
  await watchUntil(trpcLiveAs(server.url, server.adminToken), tenantA, (i) => i?.state === "running");
  await ingestText(server, tenantA, "Vacation policy", VACATION);
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (distDir) rmSync(distDir, { recursive: true, force: true });
});

describe("widget settings over tRPC", () => {
  it("creates with theme defaults, merges theme updates, lists per tenant, deletes", async () => {
    const admin = trpcAs(server.url, server.adminToken);
    expect(widgetA.theme).toMatchObject({ primaryColor: "#4f46e5", position: "bottom-right" });
    const updated = await admin.widgets.update.mutate({
      tenantId: tenantA,
      widgetId: widgetA2.id,
      theme: { primaryColor: "#0f766e", title: "Help" },
    });
    expect(updated.theme).toMatchObject({ primaryColor: "#0f766e", title: "Help", position: "bottom-right" });
    expect((await admin.widgets.get.query({ tenantId: tenantA, widgetId: widgetA2.id })).theme.title).toBe(
      "Help",
    );
    const listA = await admin.widgets.list.query({ tenantId: tenantA });
    expect(listA.map((w) => w.id).sort()).toEqual([widgetA.id, widgetA2.id, disabledWidget.id].sort());
    // Another tenant's widget id is "not found" under this tenant.
    await expect(admin.widgets.get.query({ tenantId: tenantA, widgetId: widgetB.id })).rejects.toThrow(
      /does not exist/,
    );
    const temp = await admin.widgets.create.mutate({ tenantId: tenantB, name: "Temp", allowedOrigins: [] });
    await admin.widgets.delete.mutate({ tenantId: tenantB, widgetId: temp.id });
    expect((await admin.widgets.list.query({ tenantId: tenantB })).map((w) => w.id)).toEqual([widgetB.id]);
  });

  it("refuses a credential of another tenant and bad origins", async () => {
    const keyOfB = (
      await api(server.url, "POST", `/tenants/${tenantB}/keys`, {
        token: server.adminToken,
        body: { name: "b", scopes: ["admin"] },
      })
    ).body.secret as string;
    const asB = trpcAs(server.url, keyOfB);
    await expect(asB.widgets.list.query({ tenantId: tenantA })).rejects.toThrow(/no access to that tenant/);
    await expect(
      asB.widgets.update.mutate({ tenantId: tenantA, widgetId: widgetA.id, enabled: false }),
    ).rejects.toThrow(/no access/);
    await expect(
      asB.widgets.create.mutate({ tenantId: tenantB, name: "x", allowedOrigins: ["https://x.example/path"] }),
    ).rejects.toThrow(/must be an origin/);
  });
});

describe("a visitor on an allowed site", () => {
  it("gets a chat-only token bound to the widget, origin and visitor, with CORS for that origin", async () => {
    const requestedAt = Date.now();
    const issued = await requestToken(widgetA.id, SHOP);
    expect(issued.status).toBe(200);
    expect(issued.headers.get("access-control-allow-origin")).toBe(SHOP);
    expect(issued.body.visitorId).toMatch(/^vis_[0-9a-z]{24}$/);
    expect(issued.body.config).toEqual({ widgetId: widgetA.id, theme: widgetA.theme });
    const claims = decodeJwt(issued.body.token);
    expect(claims).toMatchObject({
      aud: `vdb:widget:${widgetA.id}`,
      sub: issued.body.visitorId,
      kind: "embed",
      scope: "chat",
      tenant: tenantA,
      widget: widgetA.id,
      origin: SHOP,
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(600);
    // The life the widget is told is the token's own, never more (it refreshes at a fraction of it).
    expect(Date.parse(issued.body.expiresAt)).toBe((claims.exp ?? 0) * 1000);
    expect(issued.body.expiresInSeconds * 1000).toBeLessThanOrEqual((claims.exp ?? 0) * 1000 - requestedAt);
    // The same visitor keeps its id across tokens (reloads).
    const again = await tokenFor(widgetA.id, SHOP, issued.body.visitorId);
    expect(again.visitorId).toBe(issued.body.visitorId);

    const preflight = await call(`/embed/widgets/${widgetA.id}/chat`, {
      method: "OPTIONS",
      headers: { origin: SHOP, "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(SHOP);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/);
  });

  it("streams an answer with citations, stores it as the visitor's, and finds it after a reload", async () => {
    const { token, visitorId } = await tokenFor(widgetA.id, SHOP);
    const streamed = await chat(widgetA.id, {
      token,
      origin: SHOP,
      stream: true,
      body: { message: "How many days of paid vacation do employees get?" },
    });
    expect(streamed.status, streamed.text).toBe(200);
    expect(streamed.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(streamed.headers.get("access-control-allow-origin")).toBe(SHOP);
    expect(streamed.text).toMatch(/event: token/);
    const done = streamed.text
      .split("\n\n")
      .find((block) => block.startsWith("event: done"))
      ?.split("\n")
      .find((line) => line.startsWith("data:"));
    const answer = JSON.parse(done!.slice(5)) as {
      sessionId: string;
      answer: string;
      citations: { title: string }[];
    };
    expect(answer.answer).toContain("30 days of paid vacation");
    // Worded for a visitor of the site: nothing about how the platform is configured.
    expect(answer.answer.split("\n")[0]).toBe(VISITOR_EXTRACTIVE_INTRO);
    expect(answer.answer).not.toMatch(/language model|extractive/i);
    expect(answer.citations[0]?.title).toBe("Vacation policy");

    const [session] = await server.services.db
      .select()
      .from(chatSessions)
      .where(eq(chatSessions.id, answer.sessionId));
    expect(session).toMatchObject({
      tenantId: tenantA,
      widgetId: widgetA.id,
      visitorId,
      createdBy: visitorId,
    });

    // After a reload: a new token for the same visitor reads the conversation back.
    const reloaded = await tokenFor(widgetA.id, SHOP, visitorId);
    const restored = await conversation(widgetA.id, { token: reloaded.token, origin: SHOP });
    expect(restored.status).toBe(200);
    expect(restored.body.sessionId).toBe(answer.sessionId);
    expect(restored.body.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(restored.body.messages[1]?.citations[0]?.title).toBe("Vacation policy");

    // A follow-up continues the same session (JSON, without streaming): the visitor's second
    // message, within its burst (two messages, then one a second), so no wait.
    const followUp = await chat(widgetA.id, {
      token: reloaded.token,
      origin: SHOP,
      body: { message: "How are vacation requests made?", sessionId: answer.sessionId },
    });
    expect(followUp.status, followUp.text).toBe(200);
    expect(followUp.body.sessionId).toBe(answer.sessionId);
  });

  it("a new visitor starts with no conversation", async () => {
    const { token } = await tokenFor(widgetA.id, BLOG);
    const empty = await conversation(widgetA.id, { token, origin: BLOG });
    expect(empty.body).toEqual({ sessionId: null, messages: [] });
  });
});

describe("refusals", () => {
  it("an origin not on the list gets no token, only a refusal its page can read", async () => {
    const before = await writtenRows();
    const refused = await requestToken(widgetA.id, EVIL);
    expectError(refused, 403, "FORBIDDEN");
    expect(refused.body.error.message).toContain(EVIL);
    // Readable by that page (the site's developer sees why), and nothing else is in it.
    expect(refused.headers.get("access-control-allow-origin")).toBe(EVIL);
    expect(refused.text).not.toMatch(/eyJ/); // no JWT anywhere in the answer

    const preflight = await call(`/embed/token?widgetId=${widgetA.id}`, {
      method: "OPTIONS",
      headers: { origin: EVIL, "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();

    // Look-alikes of an allowed origin are other origins.
    for (const origin of [
      "http://shop.example",
      "https://shop.example:8443",
      "https://shop.example.evil.test",
      "null",
    ]) {
      expectError(await requestToken(widgetA.id, origin), 403, "FORBIDDEN");
    }
    // Without an Origin header (not a browser page) no token either.
    expectError(await requestToken(widgetA.id, null), 403, "FORBIDDEN");
    expect(await writtenRows()).toEqual(before);
  });

  it("a disabled widget issues no token, and tokens issued before it was disabled stop working", async () => {
    expectError(await requestToken(disabledWidget.id, SHOP), 403, "FORBIDDEN");
    const admin = trpcAs(server.url, server.adminToken);
    const widget = await admin.widgets.create.mutate({
      tenantId: tenantA,
      name: "Soon off",
      allowedOrigins: [SHOP],
    });
    const { token } = await tokenFor(widget.id, SHOP);
    await admin.widgets.update.mutate({ tenantId: tenantA, widgetId: widget.id, enabled: false });
    const before = await writtenRows();
    expectError(
      await chat(widget.id, { token, origin: SHOP, body: { message: "hello?" } }),
      403,
      "FORBIDDEN",
    );
    expectError(await conversation(widget.id, { token, origin: SHOP }), 403, "FORBIDDEN");
    expect(await writtenRows()).toEqual(before);
  });

  it("an unknown or malformed widget id is not found / invalid", async () => {
    expectError(await requestToken("wid_00000000000000000000", SHOP), 404, "NOT_FOUND");
    expectError(await requestToken("ten_00000000000000000000", SHOP), 400, "VALIDATION_FAILED");
  });

  it("a forged token (bad signature, or signed by a key that is not ours) is UNAUTHORIZED", async () => {
    const { token } = await tokenFor(widgetA.id, SHOP);
    const before = await writtenRows();
    const [header, payload, signature] = token.split(".");
    // Same header and claims, another signature.
    const tampered = `${header}.${payload}.${signature!.slice(0, -4)}${signature!.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
    // Claims changed to another widget, keeping the original signature.
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const swapped = `${header}.${Buffer.from(JSON.stringify({ ...claims, widget: widgetB.id, aud: `vdb:widget:${widgetB.id}`, tenant: tenantB })).toString("base64url")}.${signature}`;
    // A well-formed token signed with an attacker's key under our kid.
    const { privateKey } = await generateKeyPair("ES256");
    const { kid } = JSON.parse(Buffer.from(header!, "base64url").toString()) as { kid: string };
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid }).sign(privateKey);

    for (const forged of [tampered, foreign, "not-a-jwt"]) {
      const reply = await chat(widgetA.id, { token: forged, origin: SHOP, body: { message: "hello" } });
      expectError(reply, 401, "UNAUTHORIZED");
    }
    expectError(
      await chat(widgetB.id, { token: swapped, origin: SHOP, body: { message: "hello" } }),
      401,
      "UNAUTHORIZED",
    );
    expectError(
      await chat(widgetA.id, { token: "", origin: SHOP, body: { message: "hi" } }),
      401,
      "UNAUTHORIZED",
    );
    expect(await writtenRows()).toEqual(before);
  });

  it("an expired token is UNAUTHORIZED and says so", async () => {
    const { kid, key } = await server.services.signingKeys.activePrivateKey();
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({
      kind: "embed",
      scope: "chat",
      tenant: tenantA,
      widget: widgetA.id,
      origin: SHOP,
      jti: "req_expired",
    })
      .setProtectedHeader({ alg: "ES256", kid })
      .setIssuer(server.config.publicUrl)
      .setAudience(`vdb:widget:${widgetA.id}`)
      .setSubject(newVisitorId())
      .setIssuedAt(now - 1_200)
      .setExpirationTime(now - 600)
      .sign(key);
    const before = await writtenRows();
    const reply = await chat(widgetA.id, { token: expired, origin: SHOP, body: { message: "hello" } });
    expectError(reply, 401, "UNAUTHORIZED");
    expect(reply.body.error.message).toMatch(/expired/);
    expect(await writtenRows()).toEqual(before);
  });

  it("a token reused from another origin, even one the widget allows, is FORBIDDEN", async () => {
    const { token } = await tokenFor(widgetA.id, SHOP);
    const before = await writtenRows();
    for (const origin of [BLOG, EVIL]) {
      expectError(await chat(widgetA.id, { token, origin, body: { message: "hello" } }), 403, "FORBIDDEN");
      expectError(await conversation(widgetA.id, { token, origin }), 403, "FORBIDDEN");
    }
    const noOrigin = await call(`/embed/widgets/${widgetA.id}/conversation`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expectError(noOrigin, 403, "FORBIDDEN");
    expect(await writtenRows()).toEqual(before);
  });

  it("a token for widget A is refused by widget B (same tenant or another) and an instance token is no embed token", async () => {
    const { token } = await tokenFor(widgetA.id, SHOP);
    const before = await writtenRows();
    for (const other of [widgetA2, widgetB]) {
      const reply = await chat(other.id, { token, origin: SHOP, body: { message: "hello" } });
      expectError(reply, 401, "UNAUTHORIZED");
      expect(reply.text).not.toContain(tenantB);
      expectError(await conversation(other.id, { token, origin: SHOP }), 401, "UNAUTHORIZED");
    }
    const instanceToken = await api(server.url, "POST", "/generate-token", {
      token: server.adminToken,
      body: { tenantId: tenantA, scopes: ["read"] },
    });
    expect(instanceToken.status).toBe(200);
    expectError(
      await chat(widgetA.id, { token: instanceToken.body.token, origin: SHOP, body: { message: "hello" } }),
      401,
      "UNAUTHORIZED",
    );
    // And an embed token is no API credential.
    const asApi = await api(server.url, "GET", `/tenants/${tenantA}/chat/sessions`, { token });
    expect(asApi.status).toBe(401);
    expect(await writtenRows()).toEqual(before);
  });

  it("a huge message is PAYLOAD_TOO_LARGE and stores nothing", async () => {
    const { token } = await tokenFor(widgetA.id, SHOP);
    const before = await writtenRows();
    const tooLong = await chat(widgetA.id, { token, origin: SHOP, body: { message: "x".repeat(4_001) } });
    expectError(tooLong, 413, "PAYLOAD_TOO_LARGE");
    expect(tooLong.body.error.message).toMatch(/4,000 characters/);
    const tooBig = await chat(widgetA.id, { token, origin: SHOP, body: { message: "x".repeat(2_000_000) } });
    expectError(tooBig, 413, "PAYLOAD_TOO_LARGE");
    expectError(
      await chat(widgetA.id, { token, origin: SHOP, body: { message: "   " } }),
      400,
      "VALIDATION_FAILED",
    );
    expectError(
      await chat(widgetA.id, { token, origin: SHOP, body: { message: "hi", tenantId: tenantB } }),
      400,
      "VALIDATION_FAILED",
    );
    expect(await writtenRows()).toEqual(before);
  });

  it("rapid-fire messages from one visitor are RATE_LIMITED with Retry-After", async () => {
    const { token } = await tokenFor(widgetA.id, SHOP);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () =>
        chat(widgetA.id, { token, origin: SHOP, body: { message: "Vacation days?" } }),
      ),
    );
    const limited = replies.filter((reply) => reply.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(3);
    expect(replies.filter((reply) => reply.status === 200).length).toBeLessThanOrEqual(2);
    for (const reply of limited) {
      expectError(reply, 429, "RATE_LIMITED");
      expect(Number(reply.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(reply.headers.get("access-control-allow-origin")).toBe(SHOP);
    }
    // Another visitor of the same widget is not slowed down by this one.
    const other = await tokenFor(widgetA.id, SHOP);
    const fine = await chat(widgetA.id, {
      token: other.token,
      origin: SHOP,
      body: { message: "Vacation days?" },
    });
    expect(fine.status, fine.text).toBe(200);
  });

  it("a visitor can never read or continue another visitor's conversation", async () => {
    const alice = await tokenFor(widgetA.id, SHOP);
    const asked = await chat(widgetA.id, {
      token: alice.token,
      origin: SHOP,
      body: { message: "Vacation?" },
    });
    expect(asked.status, asked.text).toBe(200);
    const aliceSession = asked.body.sessionId as string;
    const mallory = await tokenFor(widgetA.id, SHOP);
    const before = await writtenRows();

    const read = await conversation(widgetA.id, {
      token: mallory.token,
      origin: SHOP,
      sessionId: aliceSession,
    });
    expectError(read, 404, "NOT_FOUND");
    expect(read.text).not.toContain("Vacation?");
    const mine = await conversation(widgetA.id, { token: mallory.token, origin: SHOP });
    expect(mine.body).toEqual({ sessionId: null, messages: [] });
    const hijack = await chat(widgetA.id, {
      token: mallory.token,
      origin: SHOP,
      body: { message: "What did she ask?", sessionId: aliceSession },
    });
    expectError(hijack, 404, "NOT_FOUND");
    expect(await writtenRows()).toEqual(before);
    const [stored] = await server.services.db
      .select({ n: count() })
      .from(chatSessions)
      .where(and(eq(chatSessions.widgetId, widgetA.id), eq(chatSessions.visitorId, mallory.visitorId)));
    expect(stored?.n).toBe(0);
  });
});

describe("the widget's files", () => {
  it("serves the built loader and says clearly when the core is not built", async () => {
    const loader = await call("/widget.js");
    expect(loader.status).toBe(200);
    expect(loader.headers.get("content-type")).toMatch(/javascript/);
    expect(loader.text).toBe("/* loader */");
    const core = await call("/widget/core.js");
    expectError(core, 503, "SERVICE_UNAVAILABLE");
    expect(core.body && (core.body as ErrorBody).error.message).toMatch(/not built/);
  });
});
