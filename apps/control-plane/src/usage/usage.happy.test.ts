import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate } from "../auth/authenticate";
import { createTestDatabase, dropTestDatabase, startTestServer, type TestServer } from "../testing";
import { api } from "../testing/http";
import { keyRateLimiter } from "./rate-limit";
import { recordUsage } from "./record-usage";
import { usageTestApp } from "./test-app";

// Days are UTC days whatever the database session's time zone: run the store 14 hours ahead.
const FAR_ZONE = "Pacific/Kiritimati";

let databaseUrl: string;
let server: TestServer;
let usage: ReturnType<typeof usageTestApp>;
let tenantA: string;
let tenantB: string;
let keyOfA: string;
let keyOfB: string;

const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  server = await startTestServer({
    // postgres.js sends unknown URL parameters as session settings, to every pooled connection.
    databaseUrl: databaseUrl.startsWith("postgres") ? `${databaseUrl}?TimeZone=${FAR_ZONE}` : databaseUrl,
  });
  // PGlite is one session.
  if (server.services.store.kind === "pglite")
    await server.services.db.execute(sql.raw(`set time zone '${FAR_ZONE}'`));
  // postgres.js answers rows, PGlite `{ rows }`.
  const result = (await server.services.db.execute(
    sql`select current_setting('TimeZone') as zone`,
  )) as unknown as { zone: string }[] | { rows: { zone: string }[] };
  expect((Array.isArray(result) ? result : result.rows)[0]?.zone).toBe(FAR_ZONE);
  usage = usageTestApp(server.services);
  const token = server.adminToken;
  tenantA = (await api(server.url, "POST", "/tenants", { token, body: { slug: "usage-a", name: "A" } })).body
    .id;
  tenantB = (
    await api(server.url, "POST", "/tenants", { token, body: { slug: "usage-b", name: "B", plan: "pro" } })
  ).body.id;
  keyOfA = (
    await api(server.url, "POST", `/tenants/${tenantA}/keys`, {
      token,
      body: { name: "k", scopes: ["read"] },
    })
  ).body.secret;
  keyOfB = (
    await api(server.url, "POST", `/tenants/${tenantB}/keys`, {
      token,
      body: { name: "k", scopes: ["read"] },
    })
  ).body.secret;

  await recordUsage(server.services.db, [
    // Just outside the window, on both sides.
    { tenantId: tenantA, kind: "search", quantity: 100, at: at("2025-02-28T23:59:59.999Z") },
    { tenantId: tenantA, kind: "search", quantity: 1000, at: at("2025-03-04T00:00:00.000Z") },
    // 1 March: the first and the last millisecond of the UTC day.
    { tenantId: tenantA, kind: "search", quantity: 1, at: at("2025-03-01T00:00:00.000Z") },
    { tenantId: tenantA, kind: "search", quantity: 2, at: at("2025-03-01T23:59:59.999Z") },
    // 2 March
    { tenantId: tenantA, kind: "search", quantity: 4, at: at("2025-03-02T00:00:00.000Z") },
    {
      tenantId: tenantA,
      kind: "ingest.chunks",
      quantity: 10,
      at: at("2025-03-02T12:00:00Z"),
      metadata: { d: 1 },
    },
    // Still 2 March in New York, already 3 March in UTC: days are UTC days.
    { tenantId: tenantA, kind: "ingest.chunks", quantity: 5, at: at("2025-03-02T23:30:00-05:00") },
    { tenantId: tenantA, kind: "search", quantity: 8, at: at("2025-03-03T10:00:00Z") },
    // Another tenant's usage on the same days.
    { tenantId: tenantB, kind: "search", quantity: 50, at: at("2025-03-02T08:00:00Z") },
    { tenantId: tenantB, kind: "chat", quantity: 3, at: at("2025-03-03T08:00:00Z") },
  ]);
});
afterAll(async () => {
  await server?.close();
  await dropTestDatabase(databaseUrl);
});

const MARCH = "from=2025-03-01&to=2025-03-03";

describe("daily usage of a tenant", () => {
  it("sums each UTC day and kind, totals every kind, and gives the plan's quotas", async () => {
    const report = await usage.get(`/tenants/${tenantA}/usage?${MARCH}`, server.adminToken);
    expect(report.status).toBe(200);
    expect(report.body).toEqual({
      tenantId: tenantA,
      plan: "starter",
      documents: 0,
      quotas: {
        maxDocuments: 10_000,
        maxRecords: 10_000,
        maxCollections: 5,
        requestsPerSecond: 10,
        maxApiKeys: 10,
        maxUploadBytes: 10 * 1024 * 1024,
      },
      from: "2025-03-01",
      to: "2025-03-03",
      days: [
        { date: "2025-03-01", kind: "search", quantity: 3 },
        { date: "2025-03-02", kind: "ingest.chunks", quantity: 10 },
        { date: "2025-03-02", kind: "search", quantity: 4 },
        { date: "2025-03-03", kind: "ingest.chunks", quantity: 5 },
        { date: "2025-03-03", kind: "search", quantity: 8 },
      ],
      totals: { "ingest.documents": 0, "ingest.chunks": 15, "ingest.tokens": 0, search: 15, chat: 0 },
    });
  });

  it("narrows to the kinds asked for, comma-separated or repeated", async () => {
    const commas = await usage.get(`/tenants/${tenantA}/usage?${MARCH}&kinds=search,chat`, keyOfA);
    expect(commas.status).toBe(200);
    expect(commas.body.days.map((day: { kind: string }) => day.kind)).toEqual(["search", "search", "search"]);
    expect(commas.body.totals).toEqual({ search: 15, chat: 0 });
    const repeated = await usage.get(`/tenants/${tenantA}/usage?${MARCH}&kinds=search&kinds=chat`, keyOfA);
    expect(repeated.body).toEqual(commas.body);
  });

  it("a single day", async () => {
    const day = await usage.get(`/tenants/${tenantA}/usage?from=2025-03-02&to=2025-03-02`, keyOfA);
    expect(day.body.days).toEqual([
      { date: "2025-03-02", kind: "ingest.chunks", quantity: 10 },
      { date: "2025-03-02", kind: "search", quantity: 4 },
    ]);
  });

  it("defaults to the last 30 days, today included", async () => {
    const recent = (
      await api(server.url, "POST", "/tenants", {
        token: server.adminToken,
        body: { slug: "usage-recent", name: "R" },
      })
    ).body.id;
    const DAY = 86_400_000;
    const now = Date.now();
    await recordUsage(server.services.db, [
      { tenantId: recent, kind: "chat", quantity: 1, at: new Date(now) },
      { tenantId: recent, kind: "chat", quantity: 2, at: new Date(now - 29 * DAY) },
      { tenantId: recent, kind: "chat", quantity: 4, at: new Date(now - 31 * DAY) },
    ]);
    const report = await usage.get(`/tenants/${recent}/usage?kinds=chat`, server.adminToken);
    const today = new Date(now).toISOString().slice(0, 10);
    expect(report.body).toMatchObject({
      from: new Date(Date.parse(today) - 29 * DAY).toISOString().slice(0, 10),
      to: today,
      totals: { chat: 3 },
    });
  });

  it("answers the same over tRPC (usage.get) and the seed's GET /admin/usage", async () => {
    const rest = await usage.get(`/tenants/${tenantA}/usage?${MARCH}`, keyOfA);
    const trpc = await (await usage.trpcAs(keyOfA)).usage.get({
      tenantId: tenantA,
      from: "2025-03-01",
      to: "2025-03-03",
    });
    expect(trpc).toEqual(rest.body);
    // An API key implies its tenant; a user names it.
    expect((await usage.get(`/admin/usage?${MARCH}`, keyOfA)).body).toEqual(rest.body);
    const named = await usage.get(`/admin/usage?${MARCH}&tenantId=${tenantA}`, server.adminToken);
    expect(named.body).toEqual(rest.body);
  });
});

describe("usage across tenants (operators)", () => {
  it("totals each kind and ranks the tenants that used it most", async () => {
    const summary = await usage.get(`/admin/usage/summary?${MARCH}&kinds=search,chat`, server.adminToken);
    expect(summary.status).toBe(200);
    expect(summary.body).toEqual({
      from: "2025-03-01",
      to: "2025-03-03",
      kinds: [
        {
          kind: "search",
          total: 65,
          top: [
            { tenantId: tenantB, slug: "usage-b", quantity: 50 },
            { tenantId: tenantA, slug: "usage-a", quantity: 15 },
          ],
        },
        { kind: "chat", total: 3, top: [{ tenantId: tenantB, slug: "usage-b", quantity: 3 }] },
      ],
    });
    const topOne = await (await usage.trpcAs(server.adminToken)).usage.summary({
      from: "2025-03-01",
      to: "2025-03-03",
      kinds: ["search"],
      limit: 1,
    });
    expect(topOne.kinds).toEqual([
      { kind: "search", total: 65, top: [{ tenantId: tenantB, slug: "usage-b", quantity: 50 }] },
    ]);
  });
});

describe("rate limits by plan", () => {
  it("read each key's plan from the store when no planOf is given", async () => {
    const limitKeys = keyRateLimiter();
    const ofA = await limitKeys(await authenticate(server.services, keyOfA), server.services);
    expect(ofA).toMatchObject({ plan: "starter", rps: 10, limit: 20, isAllowed: true });
    const ofB = await limitKeys(await authenticate(server.services, keyOfB), server.services);
    expect(ofB).toMatchObject({ plan: "pro", rps: 100, limit: 200, isAllowed: true });
    expect(
      await limitKeys(await authenticate(server.services, server.adminToken), server.services),
    ).toMatchObject({ scope: "session", plan: null, isAllowed: true });
  });
});
