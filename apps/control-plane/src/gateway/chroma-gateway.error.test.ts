import http from "node:http";
import {
  ChromaClient,
  ChromaForbiddenError,
  ChromaRateLimitError,
  ChromaServerError,
  ChromaUnauthorizedError,
} from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api } from "../testing/http";

/** A control plane and its instances take minutes to start on a loaded shared machine. */
const STARTUP_TIMEOUT_MS = 300_000;

/**
 * The gateway's own refusals, which come before any instance is reached: every one in Chroma's
 * shape and status, raised by the stock client as its matching class. No tenant here has an
 * instance.
 */
const GATEWAY_LIMIT = 3 * 1024 * 1024;
const COLLECTIONS = "/api/v2/tenants/default_tenant/databases/default_database/collections";

let server: TestServer;
const keys = { pro: "", starter: "" };
beforeAll(async () => {
  server = await startTestServer({ env: { GATEWAY_MAX_BODY_BYTES: String(GATEWAY_LIMIT) } });
  for (const plan of ["pro", "starter"] as const) {
    const tenant = await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: `gw-err-${plan}`, name: plan, plan },
    });
    const key = await api(server.url, "POST", `/tenants/${tenant.body.id}/keys`, {
      token: server.adminToken,
      body: { name: "chroma", scopes: ["write"] },
    });
    keys[plan] = key.body.secret;
  }
}, STARTUP_TIMEOUT_MS);
afterAll(async () => server?.close());

function chromaWith(headers: Record<string, string>) {
  const { hostname, port } = new URL(server.url);
  return new ChromaClient({ host: hostname, port: Number(port), headers });
}

async function gateway(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? "GET",
    headers: { "content-type": "application/json", ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

/**
 * POSTs a large body and reads the answer even when the server answers (413) before it has read
 * the body and closes the connection under the upload, which fetch reports as a failure.
 */
function postLarge(path: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const request = http.request(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
    });
    request.on("response", (response) => {
      const parts: Buffer[] = [];
      response.on("data", (chunk: Buffer) => parts.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(parts).toString("utf8")),
        }),
      );
    });
    request.on("error", (error) => {
      if (
        (error as NodeJS.ErrnoException).code !== "EPIPE" &&
        (error as NodeJS.ErrnoException).code !== "ECONNRESET"
      )
        reject(error);
    });
    request.end(body);
  });
}

describe("the Chroma gateway's refusals, as Chroma's clients expect them", () => {
  it("no key or a wrong one: 401 AuthorizationError, ChromaUnauthorizedError", async () => {
    await expect(chromaWith({}).heartbeat()).rejects.toBeInstanceOf(ChromaUnauthorizedError);
    await expect(chromaWith({ "x-chroma-token": "vdbk_nope" }).heartbeat()).rejects.toBeInstanceOf(
      ChromaUnauthorizedError,
    );
    expect(await gateway("/api/v2/heartbeat")).toMatchObject({
      status: 401,
      body: {
        error: "AuthorizationError",
        message: "The Chroma gateway needs a VDB API key in the x-chroma-token header",
      },
    });
    expect(await gateway("/api/v2/heartbeat", { headers: { "x-chroma-token": "vdbk_nope" } })).toMatchObject({
      status: 401,
      body: { error: "AuthorizationError", message: "API key is not valid" },
    });
  });

  it("Authorization wins over x-chroma-token when both are sent", async () => {
    const both = await gateway("/api/v2/heartbeat", {
      headers: { authorization: "Bearer vdbk_nope", "x-chroma-token": keys.pro },
    });
    expect(both).toMatchObject({ status: 401, body: { message: "API key is not valid" } });
  });

  it("a tenant with no instance: Chroma's 503, a ChromaServerError carrying VDB's message (never 409 'already exists')", async () => {
    const chroma = chromaWith({ "x-chroma-token": keys.pro });
    const refusal = await chroma.listCollections().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ChromaServerError);
    expect((refusal as Error).message).toBe("This tenant has no instance; launch one first");
    expect(await gateway(COLLECTIONS, { headers: { "x-chroma-token": keys.pro } })).toEqual({
      status: 503,
      headers: expect.anything(),
      body: { error: "ChromaError", message: "This tenant has no instance; launch one first" },
    });
  });

  it("calls off the gateway's allow-list: 403 AuthError, ChromaForbiddenError", async () => {
    await expect(chromaWith({ "x-chroma-token": keys.pro }).reset()).rejects.toBeInstanceOf(
      ChromaForbiddenError,
    );
    const reset = await gateway("/api/v2/reset", {
      method: "POST",
      headers: { "x-chroma-token": keys.pro },
      body: "{}",
    });
    expect(reset).toMatchObject({ status: 403, body: { error: "AuthError" } });
    expect((reset.body as { message: string }).message).toContain("not available through the VDB gateway");
  });

  it("bodies up to GATEWAY_MAX_BODY_BYTES pass the gateway, past the 1 MiB of the REST API; larger ones are Chroma's 413", async () => {
    const headers = { "x-chroma-token": keys.pro };
    const body = (bytes: number) => JSON.stringify({ ids: ["a"], documents: ["x".repeat(bytes)] });
    // 2 MiB: over the REST limit, within the gateway's; refused only for want of an instance.
    const within = await gateway(`${COLLECTIONS}/some-id/add`, {
      method: "POST",
      headers,
      body: body(2 * 1024 * 1024),
    });
    expect(within.status).toBe(503);
    const over = await postLarge(`${COLLECTIONS}/some-id/add`, headers, body(GATEWAY_LIMIT));
    expect(over.status).toBe(413);
    expect(over.body).toMatchObject({ error: "BatchSizeExceededError" });
    expect((over.body as { message: string }).message).toContain(`over ${GATEWAY_LIMIT} bytes`);

    // The REST API keeps its own limit and its own envelope.
    const rest = await postLarge(
      "/api/v1/search",
      { authorization: `Bearer ${keys.pro}` },
      JSON.stringify({ query: "x".repeat(2 * 1024 * 1024) }),
    );
    expect(rest.status).toBe(413);
    expect(rest.body).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE", requestId: expect.any(String) } });
  });

  it("past the plan's rate: 429 RateLimitError with Retry-After, ChromaRateLimitError", async () => {
    const chroma = chromaWith({ "x-chroma-token": keys.starter });
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => chroma.heartbeat()));
    // Connection hiccups on a loaded machine aside, some are refused by the rate limit.
    expect(
      results.some((result) => result.status === "rejected" && result.reason instanceof ChromaRateLimitError),
    ).toBe(true);
    let limited: Awaited<ReturnType<typeof gateway>> | undefined;
    for (let attempt = 0; attempt < 100 && limited?.status !== 429; attempt++) {
      limited = await gateway("/api/v2/heartbeat", { headers: { "x-chroma-token": keys.starter } });
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited?.body).toMatchObject({
      error: "RateLimitError",
      message: expect.stringContaining("requests per second (starter plan"),
    });
  });
});
