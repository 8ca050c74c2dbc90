import { newId } from "@vdb/schemas/ids";
import { PLANS } from "@vdb/schemas/plans";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documents } from "../lib/db/schema";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcLiveAs, until, watchUntil } from "../testing/http";

const STARTER = PLANS.starter;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.close());

async function starterTenant(slug: string) {
  const tenant = await api(server.url, "POST", "/tenants", {
    token: server.adminToken,
    body: { slug, name: slug },
  });
  const key = await api(server.url, "POST", `/tenants/${tenant.body.id}/keys`, {
    token: server.adminToken,
    body: { name: "q", scopes: ["read", "write"] },
  });
  return { tenantId: tenant.body.id as string, key: key.body.secret as string };
}

async function documentCount(tenantId: string) {
  const [row] = await server.services.db
    .select({ n: count() })
    .from(documents)
    .where(eq(documents.tenantId, tenantId));
  return row?.n ?? 0;
}

/** `n` ready documents straight in the store (10,000 uploads would be the test). */
async function seedDocuments(tenantId: string, n: number) {
  const rows = Array.from({ length: n }, (_, i) => ({
    id: newId("document"),
    tenantId,
    title: `seeded ${i}`,
    source: "text" as const,
    status: "ready" as const,
    chunkSize: 400,
    chunkOverlap: 50,
  }));
  for (let i = 0; i < rows.length; i += 1_000) {
    await server.services.db.insert(documents).values(rows.slice(i, i + 1_000));
  }
}

describe("plan quotas refuse the document past the limit, storing nothing of it", () => {
  it(`documents: the starter plan's ${STARTER.maxDocuments}th is the last`, async () => {
    const { tenantId, key } = await starterTenant("quota-docs");
    await seedDocuments(tenantId, STARTER.maxDocuments);
    const refused = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "one more", text: "hello" },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: "QUOTA_EXCEEDED" });
    expect(refused.body.error.message).toContain(String(STARTER.maxDocuments));
    expect(await documentCount(tenantId)).toBe(STARTER.maxDocuments);
    const upload = await api(server.url, "POST", `/tenants/${tenantId}/documents/uploads`, {
      token: key,
      body: { filename: "more.txt", sizeBytes: 10 },
    });
    expect(upload.status).toBe(403);
    expect(await documentCount(tenantId)).toBe(STARTER.maxDocuments);
    // The usage report shows the tenant where it stands against its document quota.
    const usage = await api(server.url, "GET", `/tenants/${tenantId}/usage`, { token: key });
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({
      documents: STARTER.maxDocuments,
      quotas: { maxDocuments: STARTER.maxDocuments, maxRecords: STARTER.maxRecords },
    });
  });

  it("documents sent at once for the last place: exactly one lands", async () => {
    const { tenantId, key } = await starterTenant("quota-race");
    await seedDocuments(tenantId, STARTER.maxDocuments - 1);
    // Each passes the early count (one place left) before any of them is inserted.
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api(server.url, "POST", "/docs", { token: key, body: { title: `racer ${i}`, text: "hello" } }),
      ),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, 403, 403, 403, 403, 403]);
    for (const refused of answers.filter((answer) => answer.status === 403)) {
      expect(refused.body.error).toMatchObject({ code: "QUOTA_EXCEEDED" });
    }
    expect(await documentCount(tenantId)).toBe(STARTER.maxDocuments);
  });

  it("chunk records: a document that would not fit in the instance fails with a reason, and none of its chunks land", async () => {
    const { tenantId, key } = await starterTenant("quota-chunks");
    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
    await watchUntil(
      trpcLiveAs(server.url, server.adminToken),
      tenantId,
      (instance) => instance?.state === "running",
    );
    // Fill the instance to one record short of the plan (small integer vectors keep each request
    // under the 1 MB body limit).
    const ids = Array.from({ length: STARTER.maxRecords - 1 }, (_, i) => `filler-${i}`);
    for (let start = 0; start < ids.length; start += 2_500) {
      const batch = ids.slice(start, start + 2_500);
      const filled = await api(server.url, "POST", "/embed", {
        token: key,
        body: {
          ids: batch,
          embeddings: batch.map((_, i) => Array.from({ length: 64 }, (_, d) => ((start + i + d) % 7) + 1)),
        },
      });
      expect(filled.status).toBe(200);
    }

    const text = Array.from(
      { length: 5 },
      (_, i) => `Paragraph ${i} is long enough to be a chunk of its own here.`,
    ).join("\n\n");
    const created = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "too much", text, chunkSize: 50, chunkOverlap: 0 },
    });
    expect(created.status).toBe(201);
    const document = await until(
      "the document to settle",
      async () => (await api(server.url, "GET", `/docs/${created.body.id}`, { token: key })).body,
      (seen) => seen.status === "failed" || seen.status === "ready",
      { everyMs: 100 },
    );
    expect(document.status).toBe("failed");
    expect(document.failureReason).toMatch(/at most 10000 chunks.*Nothing of it was stored/);
    const search = await api(server.url, "POST", "/search", {
      token: key,
      body: {
        queryEmbedding: Array.from({ length: 64 }, () => 0.1),
        nResults: 5,
        where: { documentId: created.body.id },
      },
    });
    expect(search.body.results).toEqual([]);
  });
});
