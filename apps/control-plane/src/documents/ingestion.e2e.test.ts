import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcAs, trpcLiveAs, watchUntil } from "../testing/http";
import { embedBatchSize } from "./ingest-job";
import { makeDocx, makePdf } from "./parsing/fixtures";

let server: TestServer;
let tenantId: string;
let key: string;
let live: ReturnType<typeof trpcLiveAs>;

beforeAll(async () => {
  server = await startTestServer({ env: { INSTANCE_DIMENSION: "128" } });
  live = trpcLiveAs(server.url, server.adminToken);
  tenantId = (
    await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "docs", name: "Docs", plan: "pro" },
    })
  ).body.id;
  key = (
    await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
      token: server.adminToken,
      body: { name: "ingest", scopes: ["read", "write"] },
    })
  ).body.secret;
  await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
  await watchUntil(live, tenantId, (instance) => instance?.state === "running");
});
afterAll(async () => server?.close());

/** Seed 003: ask for an upload URL, PUT the bytes there, then ask for ingestion. */
async function upload(filename: string, bytes: Uint8Array, contentType = "application/octet-stream") {
  const started = await api(server.url, "POST", `/tenants/${tenantId}/documents/uploads`, {
    token: key,
    body: { filename, contentType, sizeBytes: bytes.length, chunkSize: 60, chunkOverlap: 10 },
  });
  expect(started.status).toBe(201);
  const { document, upload: target } = started.body;
  const put = await fetch(target.url, { method: "PUT", headers: target.headers, body: bytes });
  expect(put.status).toBeLessThan(300);
  const queued = await api(server.url, "POST", `/tenants/${tenantId}/documents/${document.id}/ingest`, {
    token: key,
  });
  expect(queued.status).toBe(200);
  return document.id as string;
}

/** Follows ingestion live (tRPC subscription) until the document is ready or failed. */
function settled(
  documentId: string,
): Promise<{ status: string; failureReason: string | null; progress: unknown }[]> {
  const seen: { status: string; failureReason: string | null; progress: unknown }[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not settled: ${JSON.stringify(seen.at(-1))}`)), 60_000);
    const sub = live.documents.onProgress.subscribe(
      { tenantId, documentId },
      {
        onData: (document) => {
          seen.push(document);
          if (document.status === "ready" || document.status === "failed") {
            clearTimeout(timer);
            sub.unsubscribe();
            resolve(seen);
          }
        },
        onError: reject,
      },
    );
  });
}

describe("ingestion end to end", () => {
  it("a mixed folder becomes searchable chunks that cite their document, page and heading", async () => {
    const files: [string, Uint8Array][] = [
      [
        "handbook.pdf",
        await makePdf([
          ["Vacation policy: employees get 30 days of paid leave."],
          ["Expenses are reimbursed monthly."],
        ]),
      ],
      ["onboarding.docx", await makeDocx(["Welcome aboard", "Your laptop arrives on the first day."])],
      [
        "faq.html",
        new TextEncoder().encode(
          "<html><head><title>FAQ</title><script>x()</script></head><body><h1>Parking</h1><p>Parking is free in garage B.</p></body></html>",
        ),
      ],
      [
        "guide.md",
        new TextEncoder().encode(
          "# Security\n\nRotate your API keys every 90 days.\n\n## Passwords\n\nUse a password manager.",
        ),
      ],
      ["notes.txt", new TextEncoder().encode("The cafeteria serves lunch from noon until two.")],
    ];
    const ids: Record<string, string> = {};
    for (const [name, bytes] of files) ids[name] = await upload(name, bytes);
    for (const [name] of files) {
      const states = await settled(ids[name]!);
      expect(states.at(-1)).toMatchObject({ status: "ready", failureReason: null });
    }

    const pdf = await api(server.url, "GET", `/tenants/${tenantId}/documents/${ids["handbook.pdf"]}`, {
      token: key,
    });
    expect(pdf.body.chunks.map((chunk: { page: number }) => chunk.page)).toEqual([1, 2]);
    expect(pdf.body.chunks[0].id).toBe(`${ids["handbook.pdf"]}:0`);
    const md = await api(server.url, "GET", `/docs/${ids["guide.md"]}`, { token: key });
    // Small enough for one chunk: it carries the heading where it starts (chunks never span pages).
    expect(md.body.chunks).toHaveLength(1);
    expect(md.body.chunks[0]).toMatchObject({ heading: "Security", page: null });
    expect(md.body.chunks[0].text).toContain("password manager");

    const search = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "vacation paid leave days", nResults: 3, where: { documentId: ids["handbook.pdf"]! } },
    });
    expect(search.status).toBe(200);
    expect(search.body.results[0]).toMatchObject({
      id: `${ids["handbook.pdf"]}:0`,
      metadata: { documentId: ids["handbook.pdf"], page: 1, title: "handbook.pdf" },
    });

    // Chat about one file cites that file and its chunk (extractive: no LLM configured here).
    const chat = await api(server.url, "POST", "/chat", {
      token: key,
      body: { message: "How many days of paid leave do employees get?" },
    });
    expect(chat.status).toBe(200);
    expect(chat.body.mode).toBe("extractive");
    expect(chat.body.answer).toContain("[1]");
    expect(chat.body.citations[0]).toMatchObject({
      n: 1,
      documentId: ids["handbook.pdf"],
      chunkId: `${ids["handbook.pdf"]}:0`,
      page: 1,
    });

    const listed = await api(server.url, "GET", `/tenants/${tenantId}/documents?status=ready&limit=100`, {
      token: key,
    });
    expect(listed.body.items.map((d: { id: string }) => d.id)).toEqual(
      expect.arrayContaining(Object.values(ids)),
    );
  });

  it("POST /docs ingests text and JSON, with progress reported on the way", async () => {
    const text = Array.from(
      { length: 80 },
      (_, i) => `Sentence number ${i} talks about topic ${i % 7}.`,
    ).join(" ");
    const created = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "Long text", text, chunkSize: 50, chunkOverlap: 10 },
    });
    expect(created.status).toBe(201);
    const states = await settled(created.body.id);
    expect(states.at(-1)?.status).toBe("ready");
    // Progress moves per /embed batch (a small document is cut into at least four): every step
    // seen is a whole number of batches or the end, and it never goes back.
    const stored = await api(server.url, "GET", `/tenants/${tenantId}/documents/${created.body.id}`, {
      token: key,
    });
    const total = stored.body.chunkCount as number;
    const batch = embedBatchSize(total);
    expect(batch).toBeLessThan(total);
    // (0 of 0 is the parsing stage, before the chunks are known.)
    const steps = states
      .flatMap((state) => (state.progress ? [state.progress as { done: number; total: number }] : []))
      .filter((step) => step.total > 0);
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) {
      expect(step.total).toBe(total);
      expect(step.done === total || step.done % batch === 0, `progress ${step.done} of ${total}`).toBe(true);
    }
    expect(steps.map((step) => step.done)).toEqual([...steps.map((step) => step.done)].sort((a, b) => a - b));
    const json = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "Config", json: { service: { name: "billing", owner: "finance" } } },
    });
    expect((await settled(json.body.id)).at(-1)?.status).toBe("ready");
    const got = await api(server.url, "GET", `/docs/${json.body.id}`, { token: key });
    expect(got.body.chunks[0].text).toContain("billing");
  });

  it("a document of hundreds of chunks is stored and read back whole and in order", async () => {
    // More chunks than one INSERT (100) and one read (200) take: written and read back in pieces.
    const text = Array.from({ length: 2_000 }, (_, i) => `Paragraph ${i} covers the ${i}th rule.`).join(
      "\n\n",
    );
    const created = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "Rulebook", text, chunkSize: 50, chunkOverlap: 0 },
    });
    expect(created.status).toBe(201);
    expect((await settled(created.body.id)).at(-1)?.status).toBe("ready");
    const got = await api(server.url, "GET", `/tenants/${tenantId}/documents/${created.body.id}`, {
      token: key,
    });
    expect(got.status).toBe(200);
    const chunkCount = got.body.chunkCount as number;
    expect(chunkCount).toBeGreaterThan(200);
    const chunks = got.body.chunks as { id: string; index: number; text: string }[];
    expect(chunks.map((chunk) => chunk.index)).toEqual(Array.from({ length: chunkCount }, (_, i) => i));
    expect(chunks.map((chunk) => chunk.id)).toEqual(
      chunks.map((chunk) => `${created.body.id}:${chunk.index}`),
    );
    expect(chunks[0]?.text).toContain("Paragraph 0 ");
    expect(chunks.at(-1)?.text).toContain("Paragraph 1999 ");
    const seed = await api(server.url, "GET", `/docs/${created.body.id}`, { token: key });
    expect(seed.body).toEqual(got.body);

    // tRPC pages it: 100 chunks unless asked, the next page from the cursor, none with limit 0.
    const trpc = trpcAs(server.url, key);
    const ref = { tenantId, documentId: created.body.id as string };
    const first = await trpc.documents.get.query(ref);
    expect(first.chunks.map((chunk) => chunk.index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(first.nextCursor).not.toBeNull();
    const paged = [...first.chunks];
    for (let cursor = first.nextCursor; cursor !== null; ) {
      const page = await trpc.documents.get.query({ ...ref, cursor, limit: 150 });
      expect(page.chunks.length).toBeLessThanOrEqual(150);
      paged.push(...page.chunks);
      cursor = page.nextCursor;
    }
    expect(paged).toEqual(chunks);
    const { chunks: _, ...document } = got.body;
    const statusOnly = await trpc.documents.get.query({ ...ref, limit: 0 });
    expect(statusOnly).toEqual({ ...document, chunks: [], nextCursor: null });
    await expect(trpc.documents.get.query({ ...ref, cursor: "not-a-cursor" })).rejects.toThrow(
      "cursor is not one this API returned",
    );
    await expect(trpc.documents.get.query({ ...ref, limit: 501 })).rejects.toThrow();
  });

  it("corrupt, empty, mislabelled and unsupported files fail with a reason, and the next job still runs", async () => {
    const pdf = await makePdf([["A real PDF."]]);
    const bad: [string, Uint8Array, RegExp][] = [
      ["corrupt.pdf", pdf.slice(0, Math.floor(pdf.length / 2)), /damaged|could not be read/i],
      ["fake.pdf", new TextEncoder().encode("just text pretending"), /not a PDF/i],
      ["empty.txt", new Uint8Array(), /empty/i],
      ["sheet.xlsx", new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4]), /unsupported|not supported/i],
    ];
    const failedIds: string[] = [];
    for (const [name, bytes] of bad) {
      if (bytes.length === 0) {
        // An empty file cannot even be announced: sizes start at 1 byte.
        const refused = await api(server.url, "POST", `/tenants/${tenantId}/documents/uploads`, {
          token: key,
          body: { filename: name, sizeBytes: 0 },
        });
        expect(refused.status).toBe(400);
        continue;
      }
      failedIds.push(await upload(name, bytes));
    }
    const good = await upload("after.txt", new TextEncoder().encode("This one still works."));
    for (const [index, id] of failedIds.entries()) {
      const final = (await settled(id)).at(-1)!;
      expect(final.status).toBe("failed");
      const expected = bad.filter(([, bytes]) => bytes.length > 0)[index]![2];
      expect(final.failureReason).toMatch(expected);
    }
    expect((await settled(good)).at(-1)?.status).toBe("ready");
  });

  it("refuses a file over the plan's size before any byte is stored", async () => {
    const res = await api(server.url, "POST", `/tenants/${tenantId}/documents/uploads`, {
      token: key,
      body: { filename: "huge.pdf", sizeBytes: 500 * 1024 * 1024 },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.message).toMatch(/plan allows/);
    const listed = await api(server.url, "GET", `/tenants/${tenantId}/documents?limit=100`, { token: key });
    expect(listed.body.items.map((d: { filename: string }) => d.filename)).not.toContain("huge.pdf");
  });

  it("deleting a document removes its chunks from search, and a read key cannot ingest", async () => {
    const id = await upload("temp.txt", new TextEncoder().encode("Ephemeral zebra facts for deletion."));
    await settled(id);
    const before = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "zebra", where: { documentId: id } },
    });
    expect(before.body.results.length).toBeGreaterThan(0);
    expect(
      (await api(server.url, "DELETE", `/tenants/${tenantId}/documents/${id}`, { token: key })).status,
    ).toBe(200);
    const after = await api(server.url, "POST", "/search", {
      token: key,
      body: { query: "zebra", where: { documentId: id } },
    });
    expect(after.body.results).toEqual([]);
    expect((await api(server.url, "GET", `/docs/${id}`, { token: key })).status).toBe(404);

    const reader = (
      await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
        token: server.adminToken,
        body: { name: "r", scopes: ["read"] },
      })
    ).body.secret;
    const refused = await api(server.url, "POST", "/docs", {
      token: reader,
      body: { title: "x", text: "y" },
    });
    expect(refused.status).toBe(403);
  });

  it("a direct multipart upload of several files queues each; a refused file stores nothing", async () => {
    const form = new FormData();
    form.append(
      "file",
      new Blob([await makePdf([["Multipart upload: the first file."]])], { type: "application/pdf" }),
      "one.pdf",
    );
    form.append("file", new Blob(["Second file, plain text, ".repeat(50_000)]), "two.txt"); // > 1 MB: past the JSON body limit
    form.append("chunkSize", "2000"); // the largest: the 1.25 MB text is ~150 chunks, not ~1,500
    const sent = await fetch(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(sent.status).toBe(201);
    const { documents } = (await sent.json()) as {
      documents: { id: string; filename: string; chunkSize: number }[];
    };
    expect(documents.map((d) => d.filename)).toEqual(["one.pdf", "two.txt"]);
    expect(documents[0]!.chunkSize).toBe(2000);
    for (const document of documents) expect((await settled(document.id)).at(-1)?.status).toBe("ready");

    const before = (await api(server.url, "GET", `/tenants/${tenantId}/documents?limit=100`, { token: key }))
      .body.items.length;
    const tooBig = new FormData();
    tooBig.append("file", new Blob(["fine"]), "fine.txt");
    tooBig.append("file", new Blob([new Uint8Array(51 * 1024 * 1024)]), "huge.txt"); // over the pro plan's 50 MB
    const refused = await fetch(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: tooBig,
    });
    expect(refused.status).toBe(413);
    const after = (await api(server.url, "GET", `/tenants/${tenantId}/documents?limit=100`, { token: key }))
      .body.items.length;
    expect(after).toBe(before);

    const reader = (
      await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
        token: server.adminToken,
        body: { name: "r2", scopes: ["read"] },
      })
    ).body.secret;
    const noScope = new FormData();
    noScope.append("file", new Blob(["x"]), "x.txt");
    const forbidden = await fetch(`${server.url}/api/v1/tenants/${tenantId}/documents/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${reader}` },
      body: noScope,
    });
    expect(forbidden.status).toBe(403);
  });

  it("usage reports count ingestion, searches and chats, by day", async () => {
    await server.services.usage.flush(); // searches are metered in one-second batches
    const usage = await api(server.url, "GET", `/tenants/${tenantId}/usage`, { token: key });
    expect(usage.status).toBe(200);
    expect(usage.body.totals["ingest.documents"]).toBeGreaterThanOrEqual(8);
    expect(usage.body.totals["ingest.chunks"]).toBeGreaterThanOrEqual(usage.body.totals["ingest.documents"]);
    expect(usage.body.totals.search).toBeGreaterThanOrEqual(3);
    expect(usage.body.totals.chat).toBe(1);
    const today = new Date().toISOString().slice(0, 10);
    expect(usage.body.days.map((day: { date: string }) => day.date)).toContain(today);
  });
});
