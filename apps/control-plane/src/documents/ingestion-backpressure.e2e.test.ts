import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, tenantWithKey, trpcAs, trpcLiveAs, watchUntil } from "../testing/http";

const MAX_QUEUE = 3;
let server: TestServer;
let tenantId: string;
let key: string;

beforeAll(async () => {
  server = await startTestServer({ env: { INGEST_QUEUE_MAX_PER_TENANT: String(MAX_QUEUE) } });
  ({ tenantId, key } = await tenantWithKey(server.url, server.adminToken, "deep"));
}, 180_000); // a loaded, shared machine starts slowly
afterAll(async () => server?.close());

const postText = (title: string) =>
  api(server.url, "POST", `/tenants/${tenantId}/documents`, {
    token: key,
    body: { title, text: `${title}: a short document. `.repeat(20) },
  });

/** A tRPC call over plain HTTP, to see its status and headers as a client would. */
const trpcCreateText = (title: string) =>
  fetch(`${server.url}/trpc/documents.createText`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ tenantId, title, text: "held back" }),
  });

describe("backpressure on a tenant's ingestion queue", () => {
  it("a queue at its bound answers 429 with Retry-After on every way in, and reports its depth", async () => {
    // No instance yet: the queue holds what it accepts, so it fills up.
    for (let i = 0; i < MAX_QUEUE; i++) expect((await postText(`Doc ${i}`)).status).toBe(201);

    const refused = await postText("One too many");
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: "RATE_LIMITED", requestId: expect.any(String) });
    expect(refused.body.error.message).toMatch(
      /ingestion queue is full: 3 documents.*at most 3.*retry in \d+ s/,
    );
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    const seed = await api(server.url, "POST", "/docs", { token: key, body: { title: "Seed", text: "x" } });
    expect(seed.status).toBe(429);
    const upload = await api(server.url, "POST", `/tenants/${tenantId}/documents/uploads`, {
      token: key,
      body: { filename: "a.txt", sizeBytes: 10 },
    });
    expect(upload.status).toBe(429);
    const form = new FormData();
    form.append("file", new File(["multipart file"], "m.txt", { type: "text/plain" }));
    const multipart = await fetch(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(multipart.status).toBe(429);
    expect(multipart.headers.get("retry-after")).not.toBeNull();
    const viaTrpc = await trpcCreateText("Via tRPC");
    expect(viaTrpc.status).toBe(429);
    expect(Number(viaTrpc.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const trpcBody = (await viaTrpc.json()) as {
      error: { data: { appCode: string; retryAfterSeconds: number } };
    };
    expect(trpcBody.error.data).toMatchObject({
      appCode: "RATE_LIMITED",
      retryAfterSeconds: expect.any(Number),
    });

    // Nothing of the refused requests was stored.
    const listed = await api(server.url, "GET", `/tenants/${tenantId}/documents`, { token: key });
    expect(listed.body.items).toHaveLength(MAX_QUEUE);

    const status = await api(server.url, "GET", `/tenants/${tenantId}/ingestion`, { token: key });
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      tenantId,
      queued: MAX_QUEUE,
      processing: 0,
      depth: MAX_QUEUE,
      maxDepth: MAX_QUEUE,
      throughputPerMinute: 0,
      expectedWaitSeconds: null,
      pausedReason: "the tenant has no instance: launch it and ingestion starts",
    });
  });

  it("once the instance runs the queue drains, the pace is measured and ingestion is accepted again", async () => {
    const live = trpcLiveAs(server.url, server.adminToken);
    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
    await watchUntil(live, tenantId, (instance) => instance?.state === "running");
    const deadline = Date.now() + 60_000;
    let status = await api(server.url, "GET", `/tenants/${tenantId}/ingestion`, { token: key });
    while (status.body.depth > 0 && Date.now() < deadline) {
      await sleep(100);
      status = await api(server.url, "GET", `/tenants/${tenantId}/ingestion`, { token: key });
    }
    expect(status.body).toMatchObject({ depth: 0, expectedWaitSeconds: 0, pausedReason: null });
    expect(status.body.throughputPerMinute).toBeGreaterThan(0);

    const viaTrpc = await trpcAs(server.url, key).documents.ingestionStatus.query({ tenantId });
    expect(viaTrpc).toMatchObject({ tenantId, depth: 0, maxDepth: MAX_QUEUE });
    expect((await postText("Room again")).status).toBe(201);
  });
});
