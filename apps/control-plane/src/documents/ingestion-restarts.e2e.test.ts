import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "../testing";
import { adminSession, api, launchUntilRunning, tenantWithKey, until } from "../testing/http";
import { type RestartablePlane, restartablePlane } from "../testing/process";

type Listed = { id: string; status: string; chunkCount: number; failureReason: string | null };

const DOCUMENTS = 60;
/** A start (PGlite, migrations, tsx) takes a few seconds alone, far longer on a shared, loaded machine. */
const START_TIMEOUT_MS = 240_000;
/** About 6 chunks of 50 tokens each. */
const textOf = (n: number) =>
  Array.from(
    { length: 8 },
    (_, i) =>
      `Report ${n}, section ${i}: the shipment of part ${n * 100 + i} left the warehouse on day ${i}.`,
  ).join("\n\n");

describe("a backlog of accepted documents across restarts of the control plane", () => {
  let plane: RestartablePlane;

  beforeAll(async () => {
    // Each restart also stops and restarts the tenant's instance: the outage the jobs must wait out.
    plane = await restartablePlane("restarts", { STOP_INSTANCES_ON_EXIT: "true" });
  });
  afterAll(async () => plane?.dispose());

  it("survives three restarts: every document ready, each with as many chunks as Chroma holds for it", async () => {
    const { url } = await plane.start(START_TIMEOUT_MS);
    const token = await adminSession(url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const { tenantId, key } = await tenantWithKey(url, token, "backlog");
    await launchUntilRunning(url, token, tenantId);

    for (let n = 0; n < DOCUMENTS; n++) {
      const created = await api(url, "POST", "/docs", {
        token: key,
        body: { title: `Report ${n}`, text: textOf(n), chunkSize: 50, chunkOverlap: 0 },
      });
      expect(created.status).toBe(201);
    }
    const list = async () => {
      try {
        return (await api(url, "GET", `/tenants/${tenantId}/documents?limit=100`, { token: key })).body
          .items as Listed[];
      } catch (error) {
        const { child, output } = plane.current;
        throw new Error(
          `listing failed (control plane exit code ${child.exitCode}):\n${output().slice(-4000)}`,
          {
            cause: error,
          },
        );
      }
    };

    // The first restart while work is under way; the next two right after a start, while the
    // instance is still coming up: jobs must wait it out rather than use attempts on it.
    const ready = await until("some progress", list, (items) => items.some((doc) => doc.status === "ready"), {
      everyMs: 50, // to restart while most of the backlog is still to do
    });
    expect(ready.filter((doc) => doc.status === "ready").length).toBeLessThan(DOCUMENTS); // a backlog, for real
    for (let restart = 1; restart <= 3; restart++) {
      await plane.stop();
      await plane.start(START_TIMEOUT_MS);
    }

    const settled = await until(
      "every document settled",
      list,
      (items) => items.every((doc) => doc.status === "ready" || doc.status === "failed"),
      { timeoutMs: 240_000 },
    );
    expect(settled.filter((doc) => doc.status !== "ready")).toEqual([]);
    expect(settled).toHaveLength(DOCUMENTS);

    // Counted in the tenant's Chroma: per document a search filtered to it (every hit), and in all.
    for (const doc of settled) {
      const found = await api(url, "POST", "/search", {
        token: key,
        body: { query: "shipment", nResults: 1_000, where: { documentId: doc.id } },
      });
      expect({ id: doc.id, chunks: found.body.results.length }).toEqual({
        id: doc.id,
        chunks: doc.chunkCount,
      });
      expect(doc.chunkCount).toBeGreaterThan(1);
    }
    const { body: grant } = await api(url, "POST", "/generate-token", { token: key, body: { tenantId } });
    const health = (await (
      await fetch(`${grant.instanceUrl}/healthz`, { headers: { authorization: `Bearer ${grant.token}` } })
    ).json()) as {
      counts: { documents: number };
    };
    expect(health.counts.documents).toBe(settled.reduce((total, doc) => total + doc.chunkCount, 0));
  }, 900_000); // four control-plane starts on a shared machine; each wait above has its own deadline
});
