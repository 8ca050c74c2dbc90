import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing";
import { api, trpcAs } from "../testing/http";

let server: TestServer;
let tenantId: string;
beforeAll(async () => {
  server = await startTestServer();
  tenantId = (
    await api(server.url, "POST", "/tenants", { token: server.adminToken, body: { slug: "tok", name: "T" } })
  ).body.id;
});
afterAll(async () => server?.close());

/** Verifies as an instance does: the JWKS fetched over HTTP, its own tenant as audience. */
async function verifyAsInstance(token: string, audienceTenant = tenantId) {
  const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`), {
    cacheMaxAge: 0,
    cooldownDuration: 0,
  });
  return jwtVerify(token, jwks, {
    audience: `vdb:instance:${audienceTenant}`,
    issuer: server.services.config.publicUrl,
  });
}

describe("instance tokens", () => {
  it("generate-token returns a short-lived JWT that verifies against the JWKS for its tenant only", async () => {
    const res = await api(server.url, "POST", "/generate-token", {
      token: server.adminToken,
      body: { tenantId, ttlSeconds: 120 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: "Bearer", audience: `vdb:instance:${tenantId}` });
    const { payload } = await verifyAsInstance(res.body.token);
    expect(payload).toMatchObject({ tenant: tenantId, scope: "read write admin" });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(Date.parse(res.body.expiresAt)).toBe(payload.exp! * 1000);
    await expect(verifyAsInstance(res.body.token, `ten_${"1".repeat(20)}`)).rejects.toThrow(/aud/);
  });

  it("bundles a new API key when asked (seed /generate-token)", async () => {
    const res = await api(server.url, "POST", "/generate-token", {
      token: server.adminToken,
      body: { tenantId, includeApiKey: true, scopes: ["read"] },
    });
    expect(res.body.apiKey.secret).toMatch(/^vdbk_/);
    expect(res.body.apiKey.scopes).toEqual(["read"]);
    expect((await api(server.url, "GET", "/auth/me", { token: res.body.apiKey.secret })).body.tenantId).toBe(
      tenantId,
    );
  });

  it("rotation: old tokens verify until their key is retired; new tokens use the new key", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const before = await client.tokens.generate.mutate({ tenantId });
    const oldKid = decodeProtectedHeader(before.token).kid;

    const rotated = await client.tokens.rotateSigningKey.mutate();
    expect(rotated.kid).not.toBe(oldKid);
    const after = await client.tokens.generate.mutate({ tenantId });
    expect(decodeProtectedHeader(after.token).kid).toBe(rotated.kid);

    await verifyAsInstance(before.token);
    await verifyAsInstance(after.token);
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as any;
    expect(jwks.keys.map((key: { kid: string }) => key.kid)).toEqual(
      expect.arrayContaining([oldKid, rotated.kid]),
    );
    for (const key of jwks.keys) expect(key.d).toBeUndefined();

    await expect(client.tokens.retireSigningKey.mutate({ kid: rotated.kid })).rejects.toMatchObject({
      data: { appCode: "CONFLICT" },
    });
    await client.tokens.retireSigningKey.mutate({ kid: oldKid! });
    await expect(verifyAsInstance(before.token)).rejects.toThrow();
    await verifyAsInstance(after.token);
    const keys = await client.tokens.signingKeys.query();
    expect(keys.find((key) => key.kid === oldKid)?.status).toBe("retired");
  });

  it("refuses wider scopes, other tenants and non-operators managing signing keys", async () => {
    const client = trpcAs(server.url, server.adminToken);
    const readKey = await client.keys.create.mutate({ tenantId, name: "r", scopes: ["read"] });
    const asReader = trpcAs(server.url, readKey.secret);
    await expect(asReader.tokens.generate.mutate({ tenantId, includeApiKey: true })).rejects.toMatchObject({
      data: { appCode: "FORBIDDEN" },
    });
    const other = await client.tenants.create.mutate({ slug: "tok-other", name: "O" });
    await expect(asReader.tokens.generate.mutate({ tenantId: other.id })).rejects.toMatchObject({
      data: { appCode: "FORBIDDEN" },
    });
    await expect(asReader.tokens.rotateSigningKey.mutate()).rejects.toMatchObject({
      data: { appCode: "FORBIDDEN" },
    });
    const bad = await api(server.url, "POST", "/generate-token", {
      token: server.adminToken,
      body: { tenantId, ttlSeconds: 10 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe("ttlSeconds");
  });
});
