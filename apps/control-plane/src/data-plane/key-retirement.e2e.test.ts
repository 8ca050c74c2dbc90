import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, launchUntilRunning, trpcAs, trpcLiveAs, watchUntil } from "../testing/http";

// The control plane reuses an instance token for minutes. Once its signing key is retired and the
// instance has re-read the JWKS (here: it restarted), that token is refused: the data plane must
// sign a fresh one rather than fail the caller's request.

let server: TestServer;
let tenantId: string;
let key: string;

const search = () =>
  api(server.url, "POST", "/search", {
    token: key,
    body: { queryEmbedding: Array(64).fill(0.1), nResults: 1 },
  });

beforeAll(async () => {
  server = await startTestServer();
  tenantId = (
    await api(server.url, "POST", "/tenants", {
      token: server.adminToken,
      body: { slug: "key-retirement", name: "Key retirement", plan: "pro" },
    })
  ).body.id;
  key = (
    await api(server.url, "POST", `/tenants/${tenantId}/keys`, {
      token: server.adminToken,
      body: { name: "app", scopes: ["read", "write"] },
    })
  ).body.secret;
  await launchUntilRunning(server.url, server.adminToken, tenantId);
});
afterAll(async () => server?.close());

describe("instance tokens across a signing-key retirement", () => {
  it("searches keep working after the key that signed the cached token is retired", async () => {
    const embedded = await api(server.url, "POST", "/embed", {
      token: key,
      body: { ids: ["a"], embeddings: [Array(64).fill(0.1)], documents: ["alpha"] },
    });
    expect(embedded.status, JSON.stringify(embedded.body)).toBe(200);
    const first = await search(); // caches a read token signed with the first key
    expect(first.status).toBe(200);
    // The instance's answer is passed through, labelled with the key's rate limit (the burst:
    // pro allows 100/s, 2 s of it at once).
    expect(first.headers.get("ratelimit-limit")).toBe("200");
    expect(Number(first.headers.get("ratelimit-remaining"))).toBeGreaterThan(0);

    const admin = trpcAs(server.url, server.adminToken);
    const oldKid = (await admin.tokens.signingKeys.query()).find((k) => k.status === "active")!.kid;
    await admin.tokens.rotateSigningKey.mutate();
    await admin.tokens.retireSigningKey.mutate({ kid: oldKid });

    // A restarted instance knows only the current keys.
    const live = trpcLiveAs(server.url, server.adminToken);
    await api(server.url, "POST", `/tenants/${tenantId}/instance/stop`, { token: server.adminToken });
    await watchUntil(live, tenantId, (i) => i?.state === "stopped");
    await api(server.url, "POST", "/launch", { token: server.adminToken, body: { tenantId } });
    await watchUntil(live, tenantId, (i) => i?.state === "running");

    const after = await search();
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body.results.map((hit: { id: string }) => hit.id)).toEqual(["a"]);
  });
});
