import { CHROMA_NAMESPACE } from "@vdb/schemas/chroma-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInstance } from "../testing";

type TestInstance = Awaited<ReturnType<typeof startTestInstance>>;

let instance: TestInstance;
beforeAll(async () => {
  instance = await startTestInstance({ env: { MAX_DOCS: "3" } });
});
afterAll(async () => instance?.close());

async function chroma(
  method: string,
  path: string,
  body?: unknown,
  scopes: ("read" | "write")[] = ["write"],
) {
  const response = await fetch(`${instance.url}/chroma${path}`, {
    method,
    headers: { authorization: `Bearer ${await instance.token(scopes)}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const vectors = (n: number) => Array.from({ length: n }, (_, i) => [i + 1, 0.5, 0.25]);

describe("the Chroma passthrough", () => {
  it("forwards allowed calls with the token's scopes, and enforces MAX_DOCS on add/upsert before writing", async () => {
    const created = await chroma("POST", `${CHROMA_NAMESPACE}/collections`, { name: "raw" });
    expect(created.status).toBe(200);
    const id = created.body.id;
    const add = await chroma("POST", `${CHROMA_NAMESPACE}/collections/${id}/add`, {
      ids: ["a", "b"],
      embeddings: vectors(2),
    });
    expect(add.status).toBeLessThan(300);

    // Upserting an existing id adds nothing; two new ids would make 4 > 3.
    const over = await chroma("POST", `${CHROMA_NAMESPACE}/collections/${id}/upsert`, {
      ids: ["b", "c", "d"],
      embeddings: vectors(3),
    });
    expect(over.status).toBe(403);
    expect(over.body.error.code).toBe("QUOTA_EXCEEDED");
    const fits = await chroma("POST", `${CHROMA_NAMESPACE}/collections/${id}/upsert`, {
      ids: ["b", "c"],
      embeddings: vectors(2),
    });
    expect(fits.status).toBeLessThan(300);
    const count = await chroma("GET", `${CHROMA_NAMESPACE}/collections/${id}/count`, undefined, ["read"]);
    expect(count.body).toBe(3);
  });

  it("refuses writes with a read token, calls off the allow-list, and bad bodies", async () => {
    const readOnly = await chroma("POST", `${CHROMA_NAMESPACE}/collections`, { name: "nope" }, ["read"]);
    expect(readOnly.status).toBe(403);
    expect((await chroma("POST", "/api/v2/reset", {})).status).toBe(403);
    const created = await chroma("POST", `${CHROMA_NAMESPACE}/collections`, { name: "raw2" });
    const bad = await chroma("POST", `${CHROMA_NAMESPACE}/collections/${created.body.id}/add`, { ids: [] });
    expect(bad.status).toBe(400);
    const notObject = await chroma("POST", `${CHROMA_NAMESPACE}/collections/${created.body.id}/add`, ["a"]);
    expect(notObject.status).toBe(400);
    const zero = await chroma("POST", `${CHROMA_NAMESPACE}/collections/${created.body.id}/query`, {
      query_embeddings: vectors(1),
      n_results: 0,
    });
    expect(zero.status).toBe(400);
    expect(zero.body.error.message).toContain("n_results");
    const response = await fetch(`${instance.url}/chroma${CHROMA_NAMESPACE}/collections`);
    expect(response.status).toBe(401);
  });
});
