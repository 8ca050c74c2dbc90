import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "../testing";
import { adminSession, api, launchUntilRunning, tenantWithKey, until } from "../testing/http";
import { type RestartablePlane, restartablePlane } from "../testing/process";

/**
 * 200 paragraphs of ~35 tokens: with chunkSize 50 and no overlap, one chunk each; embedded in 4
 * batches of 64, so the kill lands with most of them still to do.
 */
const CHUNKS = 200;
const TEXT = Array.from(
  { length: CHUNKS },
  (_, i) =>
    `Paragraph ${i} describes item ${i} of the catalogue, its colour ${["red", "green", "blue"][i % 3]}, its weight of ${i % 97} grams and where it is stored.`,
).join("\n\n");

describe("kill -9 of the control plane in the middle of an ingestion", () => {
  let plane: RestartablePlane;

  beforeAll(async () => {
    plane = await restartablePlane("crash", {
      // A real model, so embedding the chunks takes long enough to be interrupted.
      INSTANCE_MODEL: "use-lite",
      INSTANCE_DIMENSION: "512",
      STOP_INSTANCES_ON_EXIT: "true",
    });
  });
  afterAll(async () => plane?.dispose());

  it(`after a restart the job completes with exactly ${CHUNKS} chunks in Chroma: none lost, none duplicated`, async () => {
    const { url } = await plane.start();
    const token = await adminSession(url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const { tenantId, key } = await tenantWithKey(url, token, "crash");
    await launchUntilRunning(url, token, tenantId);

    const created = await api(url, "POST", "/docs", {
      token: key,
      body: { title: "Catalogue", text: TEXT, chunkSize: 50, chunkOverlap: 0 },
    });
    expect(created.status).toBe(201);
    const documentId = created.body.id;
    const midway = await until(
      "ingestion under way",
      () => api(url, "GET", `/docs/${documentId}`, { token: key }),
      (r) => (r.body.progress?.done ?? 0) > 0 || r.body.status === "ready",
      { everyMs: 50 }, // to kill it while most of the work is still to do
    );
    expect(midway.body.status).not.toBe("ready"); // interrupted for real, not after the fact
    await plane.killHard();

    await plane.start();
    const done = await until(
      "ingestion finished after restart",
      () => api(url, "GET", `/docs/${documentId}`, { token: key }),
      (r) => r.body.status === "ready" || r.body.status === "failed",
      { timeoutMs: 180_000 },
    );
    expect(done.body).toMatchObject({ status: "ready", chunkCount: CHUNKS });
    expect(done.body.chunks).toHaveLength(CHUNKS);

    const { body: grant } = await api(url, "POST", "/generate-token", { token: key, body: { tenantId } });
    const health = (await (
      await fetch(`${grant.instanceUrl}/healthz`, { headers: { authorization: `Bearer ${grant.token}` } })
    ).json()) as any;
    expect(health.counts.documents).toBe(CHUNKS);
    const search = await api(url, "POST", "/search", {
      token: key,
      body: { query: "item 150 of the catalogue", nResults: 5, where: { index: 150 } },
    });
    expect(search.body.results.map((hit: { id: string }) => hit.id)).toEqual([`${documentId}:150`]);
  }, 300_000); // two control-plane starts and 200 real embeddings; each wait above has its own deadline
});
