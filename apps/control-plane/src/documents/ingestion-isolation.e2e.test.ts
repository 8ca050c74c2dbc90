import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcLiveAs, watchUntil } from "../testing/http";
import { makePdf, makeRelinkedDocx } from "./parsing/fixtures";

/**
 * Issue 11: one tenant's hostile files fail on their own, with a reason the uploader can act on,
 * while another tenant's searches and the control plane's /health keep answering. Limits are set
 * low by configuration so the hostile inputs stay small.
 */

type Tenant = { id: string; key: string };

async function createTenant(server: TestServer, slug: string, plan: string): Promise<Tenant> {
  const id = (
    await api(server.url, "POST", "/tenants", { token: server.adminToken, body: { slug, name: slug, plan } })
  ).body.id as string;
  const key = (
    await api(server.url, "POST", `/tenants/${id}/keys`, {
      token: server.adminToken,
      body: { name: "test", scopes: ["read", "write"] },
    })
  ).body.secret as string;
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId: id } });
  await watchUntil(
    trpcLiveAs(server.url, server.adminToken),
    id,
    (instance) => instance?.state === "running",
  );
  return { id, key };
}

async function upload(
  server: TestServer,
  tenant: Tenant,
  filename: string,
  bytes: Uint8Array,
): Promise<string> {
  const started = await api(server.url, "POST", `/tenants/${tenant.id}/documents/uploads`, {
    token: tenant.key,
    body: { filename, sizeBytes: bytes.length, chunkSize: 500, chunkOverlap: 50 },
  });
  expect(started.status).toBe(201);
  const { document, upload: target } = started.body;
  const put = await fetch(target.url, { method: "PUT", headers: target.headers, body: bytes });
  expect(put.status).toBeLessThan(300);
  const queued = await api(server.url, "POST", `/tenants/${tenant.id}/documents/${document.id}/ingest`, {
    token: tenant.key,
  });
  expect(queued.status).toBe(200);
  return document.id as string;
}

/** Polls the document until it is ready or failed. */
async function settled(server: TestServer, tenant: Tenant, documentId: string) {
  for (;;) {
    const got = await api(server.url, "GET", `/tenants/${tenant.id}/documents/${documentId}`, {
      token: tenant.key,
    });
    expect(got.status).toBe(200);
    if (got.body.status === "ready" || got.body.status === "failed") return got.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function searchHits(server: TestServer, tenant: Tenant, query: string, documentId?: string) {
  const search = await api(server.url, "POST", "/search", {
    token: tenant.key,
    body: { query, nResults: 5, ...(documentId ? { where: { documentId } } : {}) },
  });
  // A tenant none of whose files was ever stored has no collection yet.
  if (search.status === 404 && search.body.error.code === "NOT_FOUND") return [];
  expect(search.status).toBe(200);
  return search.body.results as { id: string; document: string }[];
}

/** B's own records, written straight through /embed: B's searches have something to find. */
async function seedBystander(server: TestServer, bystander: Tenant) {
  const embedded = await api(server.url, "POST", "/embed", {
    token: bystander.key,
    body: { ids: ["story"], documents: ["The lighthouse keeper kept the lamp burning through the storm."] },
  });
  expect(embedded.status).toBe(200);
}

/**
 * Tenant B searches and /health is polled back to back until `stop()`; returns every status seen.
 * No timing is asserted (that is bench/isolation's job), only that each answer is a success.
 */
function probeWhile(server: TestServer, bystander: Tenant) {
  let isRunning = true;
  const statuses: { health: number[]; search: number[] } = { health: [], search: [] };
  const loop = (async () => {
    while (isRunning) {
      // A failed connection is recorded as status 0, and fails the test like any other non-200.
      const [health, search] = await Promise.all([
        fetch(`${server.url}/health`).then(
          (response) => response.status,
          () => 0,
        ),
        api(server.url, "POST", "/search", {
          token: bystander.key,
          body: { query: "lighthouse keeper", nResults: 1 },
        }).then(
          (response) => response.status,
          () => 0,
        ),
      ]);
      statuses.health.push(health);
      statuses.search.push(search);
      await new Promise((resolve) => setTimeout(resolve, 50)); // within the plan's request rate
    }
  })();
  const stop = async () => {
    isRunning = false;
    await loop;
    return statuses;
  };
  onTestFinished(async () => void (await stop())); // also when the test fails before stopping it
  return stop;
}

/** Failed, with `reason`, and nothing of it stored: no chunk rows, nothing in the tenant's Chroma. */
async function expectFailedWithNothingStored(
  server: TestServer,
  tenant: Tenant,
  documentId: string,
  reason: RegExp,
) {
  const document = await settled(server, tenant, documentId);
  expect({ status: document.status, chunkCount: document.chunkCount }).toEqual({
    status: "failed",
    chunkCount: 0,
  });
  expect(document.failureReason).toMatch(reason);
  expect(document.chunks ?? []).toEqual([]);
  expect(await searchHits(server, tenant, "x", documentId)).toEqual([]);
}

describe("hostile files under the memory and page caps", () => {
  let server: TestServer;
  let hostile: Tenant;
  let bystander: Tenant;

  beforeAll(async () => {
    server = await startTestServer({
      env: { PARSE_MEMORY_MB: "192", PARSE_MAX_PDF_PAGES: "30", PARSE_WORKERS: "2" },
    });
    hostile = await createTenant(server, "hostile", "pro");
    bystander = await createTenant(server, "bystander", "pro");
    await seedBystander(server, bystander);
  }, 180_000);
  afterAll(async () => server?.close());

  it("each hostile file ends failed with its reason, pathological-but-valid ones are read, and tenant B is served throughout", async () => {
    const stop = probeWhile(server, bystander);
    const encode = (text: string) => new TextEncoder().encode(text);
    const failing: [string, Uint8Array, RegExp][] = [
      // ~600k elements: a DOM far larger than 192 MB.
      [
        "memory.html",
        encode(`<html><body>${"<i>x</i>".repeat(700_000)}`),
        /^the file needed more than 192 MB of memory to parse; split it into smaller files$/,
      ],
      [
        "relinked.docx",
        makeRelinkedDocx("word/document.bin", ["hello"], [], { declaredSize: 1_100 * 1024 * 1024 }),
        /^the Word document unpacks to 1100 MB; VDB reads at most 100 MB$/,
      ],
      [
        "long.pdf",
        await makePdf(Array.from({ length: 31 }, (_, page) => [`Page ${page + 1}`])),
        /^the PDF has 31 pages; VDB reads at most 30$/,
      ],
    ];
    const readable: [string, Uint8Array, string][] = [
      ["unclosed.html", encode(`<html><body>${"<b>x".repeat(100_000)}`), "xxxx"],
      [
        "nested.html",
        encode(`<html><body>${"<div>".repeat(100_000)}deep${"</div>".repeat(100_000)}`),
        "deep",
      ],
      // One "word" of a megabyte (issue 11 used 4.5 MB; the cost is linear now, the test stays quick).
      ["one-token.txt", encode("a".repeat(1_000_000)), "aaaa"],
    ];
    const failingIds = [];
    for (const [name, bytes] of failing) failingIds.push(await upload(server, hostile, name, bytes));
    const readableIds = [];
    for (const [name, bytes] of readable) readableIds.push(await upload(server, hostile, name, bytes));

    for (const [index, id] of failingIds.entries()) {
      await expectFailedWithNothingStored(server, hostile, id, failing[index]![2]);
    }
    for (const [index, id] of readableIds.entries()) {
      const document = await settled(server, hostile, id);
      expect([readable[index]![0], document.status, document.failureReason]).toEqual([
        readable[index]![0],
        "ready",
        null,
      ]);
      expect(document.chunkCount).toBeGreaterThan(0);
      const hits = await searchHits(server, hostile, readable[index]![2], id);
      expect(hits[0]?.document).toContain(readable[index]![2]);
    }

    const statuses = await stop();
    expect(statuses.health.length).toBeGreaterThan(0);
    expect(new Set(statuses.health)).toEqual(new Set([200]));
    expect(new Set(statuses.search)).toEqual(new Set([200]));
    // B's own document is still there, untouched.
    expect((await searchHits(server, bystander, "lighthouse keeper"))[0]?.document).toContain("lighthouse");
  }, 300_000);
});

describe("hostile files past the parse deadline", () => {
  let server: TestServer;
  let hostile: Tenant;
  let bystander: Tenant;

  beforeAll(async () => {
    server = await startTestServer({ env: { PARSE_TIMEOUT_MS: "100", PARSE_WORKERS: "2" } });
    hostile = await createTenant(server, "slow", "pro");
    bystander = await createTenant(server, "quick", "pro");
    await seedBystander(server, bystander);
  }, 180_000);
  afterAll(async () => server?.close());

  it("a file that takes longer than the deadline is killed and failed, once, and tenant B is served throughout", async () => {
    const stop = probeWhile(server, bystander);
    // The input that froze the control plane for 10 minutes (issue 11); linear now, but seconds of work.
    const id = await upload(
      server,
      hostile,
      "unclosed.html",
      new TextEncoder().encode(`<html><body>${"<b>x".repeat(100_000)}`),
    );
    await expectFailedWithNothingStored(
      server,
      hostile,
      id,
      /^the file took longer than 0\.1 s to parse; split it into smaller files$/,
    );
    // A deterministic failure is final: the job is not retried.
    const jobs = await server.services.jobs.list({ tenantId: hostile.id });
    expect(jobs.items.map((job) => [job.status, job.attempts])).toEqual([["failed", 1]]);
    const statuses = await stop();
    expect(new Set(statuses.health)).toEqual(new Set([200]));
    expect(new Set(statuses.search)).toEqual(new Set([200]));
  });
});
