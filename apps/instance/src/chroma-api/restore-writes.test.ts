import { CHROMA_NAMESPACE, RESTORE_WRITE_HEADER } from "@vdb/schemas/chroma-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startTestInstance, type TestInstance } from "../testing";

let instance: TestInstance;
beforeAll(async () => {
  instance = await startTestInstance({ env: { MAX_DOCS: "3" } });
});
afterAll(async () => instance?.close());

/** A Chroma call through the passthrough, marked as a restore's write. */
async function restoreWrite(path: string, body: unknown, subject: string) {
  const token = await instance.issuer.mint({ tenant: instance.config.TENANT_ID, scopes: ["write"], subject });
  const response = await fetch(`${instance.url}/chroma${CHROMA_NAMESPACE}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      [RESTORE_WRITE_HEADER]: "1",
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const records = (ids: string[], documents: (string | null)[]) => ({
  ids,
  embeddings: ids.map((_, i) => [i + 1, 0.5, 0.25]),
  documents,
});

describe("a restore's upserts through the passthrough", () => {
  it("from the control plane: taken as sent (the restore checked the quota), keyword index included", async () => {
    const token = await instance.token(["write"]);
    const created = await instanceApi(instance.url, "POST", `/chroma${CHROMA_NAMESPACE}/collections`, {
      token,
      body: { name: "staging" },
    });
    const id = created.body.id as string;
    const docs = ["Tulips bloom in spring", null, "Snow covers pine trees", "Maple leaves", "Pine cones"];
    const written = await restoreWrite(
      `/collections/${id}/upsert`,
      records(["r1", "r2", "r3", "r4", "r5"], docs),
      "control-plane",
    );
    expect(written.status, JSON.stringify(written.body)).toBe(200);
    const count = await instanceApi(
      instance.url,
      "GET",
      `/chroma${CHROMA_NAMESPACE}/collections/${id}/count`,
      {
        token,
      },
    );
    expect(count.body).toBe(5);
    const search = await instanceApi(instance.url, "POST", "/search", {
      token,
      body: { collection: "staging", query: "pine", mode: "keyword", nResults: 10 },
    });
    expect(search.status).toBe(200);
    expect(search.body.results.map((hit: { id: string }) => hit.id).sort()).toEqual(["r3", "r5"]);

    // A batch whose documents do not line up with its ids is refused before Chroma sees it.
    const uneven = await restoreWrite(`/collections/${id}/upsert`, records(["r6"], []), "control-plane");
    expect(uneven.status).toBe(400);
  });

  it("from anyone else: the header is ignored and MAX_DOCS holds", async () => {
    const token = await instance.token(["write"]);
    const created = await instanceApi(instance.url, "POST", `/chroma${CHROMA_NAMESPACE}/collections`, {
      token,
      body: { name: "sneaky" },
    });
    const refused = await restoreWrite(
      `/collections/${created.body.id}/upsert`,
      records(["s1", "s2"], ["a", "b"]),
      "key_test",
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("QUOTA_EXCEEDED");
  });
});
