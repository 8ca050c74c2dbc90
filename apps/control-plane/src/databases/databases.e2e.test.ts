import type { DatabaseStatus } from "@vdb/schemas/databases";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcAs, trpcLiveAs, until, watchUntil } from "../testing/http";

// Seed 004: a named database from files, with a chosen embedding model and chunk size; poll its
// status; query it. The instance's own default is hash/64; the databases choose other models.

const HANDBOOK = [
  "# Travel policy",
  "Employees book flights through the travel desk at least 14 days ahead. Economy class is the rule for flights under six hours.",
  "",
  "## Expenses",
  "Hotel costs are reimbursed up to 180 euros per night in major cities. Receipts must be uploaded within 30 days.",
  "",
  "## Trains",
  "Train travel is preferred for trips under four hours. First class is allowed on journeys longer than three hours,",
  "and seat reservations are always reimbursed. Rail passes are bought by the travel desk for frequent travellers.",
  "",
  "## Meals",
  "Meals on travel days are covered by a daily allowance of 40 euros. Alcohol is never reimbursed, and client dinners",
  "need the approval of a manager before the booking is made.",
].join("\n");
const GARDEN =
  "Tomatoes need full sun and deep watering twice a week. Basil grows well next to tomatoes and keeps pests away. " +
  "Prune the side shoots of tomato plants so the fruit ripens earlier in the summer.";

let server: TestServer;
let tenantId: string;
let key: string;
let otherKey: string;

async function keyFor(tenant: string): Promise<string> {
  const res = await api(server.url, "POST", `/tenants/${tenant}/keys`, {
    token: server.adminToken,
    body: { name: "databases", scopes: ["read", "write"] },
  });
  return res.body.secret;
}

/** `POST /api/v1/database/create` as the seed sends it: multipart with the files. */
async function createFromFiles(
  fields: Record<string, string>,
  files: { name: string; text: string | Uint8Array }[],
) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files) form.append("files", new Blob([file.text]), file.name);
  const res = await fetch(`${server.url}/api/v1/database/create`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as any };
}

function pollUntilSettled(databaseId: string): Promise<DatabaseStatus> {
  const status = async () => {
    const res = await api<DatabaseStatus>(server.url, "GET", `/database/${databaseId}/status`, {
      token: key,
    });
    expect(res.status).toBe(200);
    return res.body;
  };
  return until("the database to finish ingesting", status, (seen) => seen.state !== "processing", {
    timeoutMs: 30_000,
    everyMs: 100,
  });
}

beforeAll(async () => {
  server = await startTestServer();
  // Pro: these tests call faster than a starter key's rate limit allows.
  const tenant = async (slug: string) =>
    (
      await api(server.url, "POST", "/tenants", {
        token: server.adminToken,
        body: { slug, name: slug, plan: "pro" },
      })
    ).body.id as string;
  tenantId = await tenant("seed-four");
  const otherTenantId = await tenant("seed-four-other");
  key = await keyFor(tenantId);
  otherKey = await keyFor(otherTenantId);
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await watchUntil(
    trpcLiveAs(server.url, server.adminToken),
    tenantId,
    (instance) => instance?.state === "running",
  );
});
afterAll(async () => server?.close());

describe("seed 004: a named database from files", () => {
  let handbookId: string;

  it("creates the database with the chosen model and chunk size, ingests its files, and answers queries", async () => {
    const created = await createFromFiles(
      { name: "handbook", model: "use-lite", chunk_size: "60", chunk_overlap: "10" },
      [
        { name: "travel.md", text: HANDBOOK },
        { name: "garden.txt", text: GARDEN },
      ],
    );
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.body.database).toMatchObject({
      name: "handbook",
      model: "use-lite",
      dimension: 512,
      chunkSize: 60,
      chunkOverlap: 10,
      searchMode: "hybrid",
    });
    expect(created.body.documents).toHaveLength(2);
    handbookId = created.body.database.id;
    expect(created.body.statusUrl).toBe(`/api/v1/database/${handbookId}/status`);

    const status = await pollUntilSettled(handbookId);
    expect(status.state).toBe("ready");
    expect(status.documents).toMatchObject({ total: 2, ready: 2, failed: 0 });
    expect(status.chunks).toBeGreaterThanOrEqual(3);

    // Every document was cut with the database's chunk size, whatever a caller asks later.
    const later = await api(server.url, "POST", "/docs", {
      token: key,
      body: {
        title: "Late addition",
        text: "Parking permits are renewed every January.",
        collection: "handbook",
        chunkSize: 900,
      },
    });
    expect(later.status).toBe(201);
    expect(later.body).toMatchObject({ collection: "handbook", chunkSize: 60, chunkOverlap: 10 });
    await pollUntilSettled(handbookId);
    for (const document of created.body.documents) {
      const full = await api(server.url, "GET", `/docs/${document.id}`, { token: key });
      expect(full.body.chunkSize).toBe(60);
      for (const chunk of full.body.chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(60);
    }

    const answer = await api(server.url, "POST", `/database/${handbookId}/query`, {
      token: key,
      body: { query: "How much is reimbursed for a hotel night?", nResults: 2 },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.databaseId).toBe(handbookId);
    expect(answer.body.results[0]).toMatchObject({ title: "travel.md" });
    expect(answer.body.results[0].text).toContain("180 euros");

    const garden = await api(server.url, "POST", `/database/${handbookId}/query`, {
      token: key,
      body: { query: "when should tomatoes be watered", nResults: 1 },
    });
    expect(garden.body.results[0]).toMatchObject({ title: "garden.txt" });
  });

  it("keeps databases of different models side by side in one instance", async () => {
    const wide = await api(server.url, "POST", "/databases", {
      token: key,
      body: {
        name: "hashed-notes",
        model: "hash",
        dimension: 32,
        chunkSize: 100,
        chunkOverlap: 0,
        searchMode: "keyword",
      },
    });
    expect(wide.status, JSON.stringify(wide.body)).toBe(201);
    expect(wide.body).toMatchObject({ model: "hash", dimension: 32, searchMode: "keyword" });
    const empty = await api(server.url, "GET", `/database/${wide.body.id}/status`, { token: key });
    expect(empty.body).toMatchObject({ state: "empty", documents: { total: 0 }, chunks: 0 });

    await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "note", text: "The quarterly review is on Friday.", collection: "hashed-notes" },
    });
    expect((await pollUntilSettled(wide.body.id)).state).toBe("ready");
    const found = await api(server.url, "POST", `/database/${wide.body.id}/query`, {
      token: key,
      body: { query: "The quarterly review is on Friday.", nResults: 1 },
    });
    expect(found.body.results[0].title).toBe("note");
    // Its queries search by keyword unless they say otherwise: no shared word, no result.
    const query = (body: object) =>
      api(server.url, "POST", `/database/${wide.body.id}/query`, { token: key, body });
    expect((await query({ query: "meeting schedule", nResults: 1 })).body.results).toEqual([]);
    const byVector = await query({ query: "meeting schedule", nResults: 1, mode: "vector" });
    expect(byVector.body.results.map((result: { title: string }) => result.title)).toEqual(["note"]);
    const badMode = await api(server.url, "POST", "/databases", {
      token: key,
      body: { name: "bad-mode", searchMode: "sparse" },
    });
    expect(badMode.status).toBe(400);

    // The instance holds both, each with its own model and dimension.
    const collections = await trpcAs(server.url, server.adminToken).databases.list.query({ tenantId });
    expect(collections.map((database) => [database.name, database.model, database.dimension])).toEqual([
      ["handbook", "use-lite", 512],
      ["hashed-notes", "hash", 32],
    ]);
  });

  it("refuses bad databases clearly and leaves nothing behind", async () => {
    const before = (await api(server.url, "GET", "/databases", { token: key })).body.length;

    const duplicate = await createFromFiles({ name: "handbook" }, [{ name: "a.txt", text: "x" }]);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe("CONFLICT");

    const unknownModel = await createFromFiles({ name: "unknown-model", model: "word2vec" }, []);
    expect(unknownModel.status).toBe(400);
    expect(unknownModel.body.error.code).toBe("VALIDATION_FAILED");

    const noKey = await createFromFiles(
      { name: "needs-openai", model: "openai:text-embedding-3-small", dimension: "1536" },
      [],
    );
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.message).toContain("OpenAI key");

    const badChunks = await createFromFiles(
      { name: "bad-chunks", chunk_size: "100", chunk_overlap: "100" },
      [],
    );
    expect(badChunks.status).toBe(400);
    expect(badChunks.body.error.code).toBe("VALIDATION_FAILED");

    // A file over the plan's size (pro: 50 MB): the database made for it is removed again.
    const tooBig = await createFromFiles({ name: "too-big" }, [
      { name: "ok.txt", text: "fine" },
      { name: "huge.txt", text: new Uint8Array(51 * 1024 * 1024).fill(97) },
    ]);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe("PAYLOAD_TOO_LARGE");

    const after = await api(server.url, "GET", "/databases", { token: key });
    expect(after.body.length).toBe(before);
    const documents = await api(server.url, "GET", `/tenants/${tenantId}/documents?collection=too-big`, {
      token: key,
    });
    expect(documents.body.items).toEqual([]);
    // Its collection is gone from the instance too: the name can be used again.
    const again = await api(server.url, "POST", "/databases", { token: key, body: { name: "too-big" } });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.model).toBe("hash");
  });

  it("shows one tenant's database to no other tenant", async () => {
    for (const [method, path, body] of [
      ["GET", `/database/${handbookId}/status`, undefined],
      ["GET", `/databases/${handbookId}`, undefined],
      ["POST", `/database/${handbookId}/query`, { query: "hotel" }],
      ["DELETE", `/databases/${handbookId}`, undefined],
    ] as const) {
      const res = await api(server.url, method, path, { token: otherKey, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("NOT_FOUND");
    }
    const named = await api(server.url, "GET", `/database/${handbookId}/status?tenantId=${tenantId}`, {
      token: otherKey,
    });
    expect(named.status).toBe(403);
    expect((await api(server.url, "GET", `/database/${handbookId}/status`, { token: key })).body.state).toBe(
      "ready",
    );
  });

  it("deletes a database with its collection, documents and files", async () => {
    const deleted = await api(server.url, "DELETE", `/databases/${handbookId}`, { token: key });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body).toEqual({ deleted: true, documents: 3 });
    expect((await api(server.url, "GET", `/database/${handbookId}/status`, { token: key })).status).toBe(404);
    const documents = await api(server.url, "GET", `/tenants/${tenantId}/documents?collection=handbook`, {
      token: key,
    });
    expect(documents.body.items).toEqual([]);
    // The collection is gone from the instance: the name can be used again, with another model.
    const recreated = await api(server.url, "POST", "/databases", {
      token: key,
      body: { name: "handbook", model: "hash", dimension: 16 },
    });
    expect(recreated.status).toBe(201);
    expect(recreated.body).toMatchObject({ model: "hash", dimension: 16 });
  });
});
