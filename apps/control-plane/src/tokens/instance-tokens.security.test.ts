import { jsonRequest } from "@vdb/http/testing";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, launchUntilRunning } from "../testing/http";

let server: TestServer;
let tenantId: string;
let otherTenantId: string;
let instanceUrl: string;

const createKey = async (tenant: string, name: string) =>
  (
    await api(server.url, "POST", `/tenants/${tenant}/keys`, {
      token: server.adminToken,
      body: { name, scopes: ["read", "write", "admin"] },
    })
  ).body as { id: string; secret: string };

const searchInstance = (token: string) =>
  fetch(`${instanceUrl}/collections`, { headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  server = await startTestServer();
  const create = async (slug: string) =>
    (await api(server.url, "POST", "/tenants", { token: server.adminToken, body: { slug, name: slug } })).body
      .id;
  tenantId = await create("revoking");
  otherTenantId = await create("revoking-other");
  instanceUrl = await launchUntilRunning(server.url, server.adminToken, tenantId);
}, 300_000);
afterAll(async () => server?.close());

describe("instance token lifetime", () => {
  it("a request for a day is clamped to INSTANCE_TOKEN_MAX_TTL_SECONDS (900 s), and expiresAt says so", async () => {
    const res = await api(server.url, "POST", "/generate-token", {
      token: server.adminToken,
      body: { tenantId, ttlSeconds: 86_400 },
    });
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.body.token);
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(Math.abs(Date.parse(res.body.expiresAt) / 1000 - claims.exp!)).toBeLessThanOrEqual(5);
    const short = await api(server.url, "POST", "/generate-token", {
      token: server.adminToken,
      body: { tenantId, ttlSeconds: 120 },
    });
    const shortClaims = decodeJwt(short.body.token);
    expect(shortClaims.exp! - shortClaims.iat!).toBe(120);
  });
});

describe("revoking the API key a token was minted with", () => {
  it("the token names its key; once the key is revoked, the instance refuses the token (polled, no time bound), other keys' tokens still work", async () => {
    const doomed = await createKey(tenantId, "doomed");
    const kept = await createKey(tenantId, "kept");
    const mint = async (secret: string) =>
      (
        await api(server.url, "POST", "/generate-token", {
          token: secret,
          body: { tenantId, ttlSeconds: 86_400 },
        })
      ).body.token as string;
    const doomedToken = await mint(doomed.secret);
    const keptToken = await mint(kept.secret);
    expect(decodeJwt(doomedToken).key).toBe(doomed.id);
    expect((await searchInstance(doomedToken)).status).toBe(200);

    const revoked = await api(server.url, "DELETE", `/tenants/${tenantId}/keys/${doomed.id}`, {
      token: server.adminToken,
    });
    expect(revoked.status).toBe(200);
    const list = await jsonRequest<any>(
      server.url,
      "GET",
      `/.well-known/vdb-revoked-keys.json?tenant=${tenantId}`,
    );
    expect(list.status).toBe(200);
    expect(list.body.keys).toEqual([doomed.id]);

    let refused: Response | null = null;
    for (let attempt = 0; attempt < 300 && !refused; attempt++) {
      const res = await searchInstance(doomedToken);
      if (res.status === 401) refused = res;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refused?.status).toBe(401);
    expect(((await refused!.json()) as any).error).toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringMatching(/revoked/),
    });
    expect((await searchInstance(keptToken)).status).toBe(200);
    // The control plane's own calls carry no key and are unaffected.
    const viaControlPlane = await api(server.url, "POST", "/embed", {
      token: kept.secret,
      body: { ids: ["a"], embeddings: [Array(64).fill(0.1)], documents: ["alpha"] },
    });
    expect(viaControlPlane.status).toBe(200);
  });

  it("the revoked-keys list is per tenant and validates its input", async () => {
    const key = await createKey(otherTenantId, "other");
    await api(server.url, "DELETE", `/tenants/${otherTenantId}/keys/${key.id}`, { token: server.adminToken });
    const other = await jsonRequest<any>(
      server.url,
      "GET",
      `/.well-known/vdb-revoked-keys.json?tenant=${otherTenantId}`,
    );
    expect(other.body.keys).toEqual([key.id]);
    const mine = await jsonRequest<any>(
      server.url,
      "GET",
      `/.well-known/vdb-revoked-keys.json?tenant=${tenantId}`,
    );
    expect(mine.body.keys).not.toContain(key.id);
    const bad = await jsonRequest<any>(server.url, "GET", "/.well-known/vdb-revoked-keys.json?tenant=nope");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
  });
});
