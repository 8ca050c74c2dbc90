import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, launchUntilRunning, tenantWithKey, until } from "../testing/http";

/**
 * One ~400-token paragraph (one chunk at the default size, several of use-lite's 128-token
 * windows): travel rules first, the quokka enclosure only at its end.
 */
const TRAVEL = Array.from(
  { length: 14 },
  (_, i) =>
    `Travel rule ${i + 1} says who approves a trip, which expense form to file and when refunds are paid.`,
).join(" ");
const LATE = "The quokka enclosure closes at dusk, and its keepers feed the quokkas at four o'clock.";
const TEXT = `${TRAVEL} ${LATE}`;
const QUERY = "When does the quokka enclosure close and when are the quokkas fed?";

let server: TestServer;
let key: string;

beforeAll(async () => {
  // The real default model, whose window is short: the point of this test.
  server = await startTestServer({ env: { INSTANCE_MODEL: "use-lite", INSTANCE_DIMENSION: "512" } });
  const tenant = await tenantWithKey(server.url, server.adminToken, "window");
  key = tenant.key;
  await launchUntilRunning(server.url, server.adminToken, tenant.tenantId);
}, 240_000);
afterAll(async () => server?.close());

async function topVectorHit(collection: string) {
  const res = await api(server.url, "POST", "/search", {
    token: key,
    body: { collection, query: QUERY, mode: "vector", nResults: 1 },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.results[0] as { id: string; document: string; score: number };
}

describe("ingestion fits chunks to the embedding model's input window (use-lite)", () => {
  it("a long chunk's late text is found by vector search; the same text embedded whole is truncated and is not", async () => {
    // The same text as one record, through /embed: the model reads its start only, and says so.
    const whole = await api(server.url, "POST", "/embed", {
      token: key,
      body: { collection: "whole", ids: ["travel-and-quokkas"], documents: [TEXT] },
    });
    expect(whole.status, JSON.stringify(whole.body)).toBe(200);
    expect(whole.body.truncated).toEqual(["travel-and-quokkas"]);

    const created = await api(server.url, "POST", "/docs", {
      token: key,
      body: { title: "Handbook", text: TEXT, collection: "handbook" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.chunkSize).toBe(400);
    const document: {
      status: string;
      chunkCount: number;
      truncatedChunks: number;
      chunks: { text: string }[];
    } = await until(
      "the document to settle",
      async () => (await api(server.url, "GET", `/docs/${created.body.id}`, { token: key })).body,
      (seen) => seen.status === "ready" || seen.status === "failed",
      { everyMs: 200 },
    );
    expect(document.status).toBe("ready");
    // One chunk of 400 cl100k tokens would not fit 128 of use-lite's: it became several, all the text kept.
    expect(document.chunkCount).toBeGreaterThan(1);
    expect(document.truncatedChunks).toBe(0);
    expect(document.chunks.map((chunk) => chunk.text).join(" ")).toBe(TEXT);

    const fitted = await topVectorHit("handbook");
    expect(fitted.document).toContain("quokka");
    const truncated = await topVectorHit("whole");
    expect(truncated.id).toBe("travel-and-quokkas");
    // The whole text's vector holds only its travel rules: the query about the quokkas is far closer
    // to the piece that holds them.
    expect(fitted.score).toBeGreaterThan(truncated.score);
    // The model loads in the instance's embedding threads on first use: slow on a loaded machine.
  }, 240_000);
});
