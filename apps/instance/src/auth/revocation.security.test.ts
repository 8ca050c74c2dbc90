import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestIssuer, instanceApi, startTestInstance, type TestInstance } from "../testing";
import { RevokedKeys, revokedKeysUrl } from "./revoked-keys";

let instance: TestInstance;
beforeAll(async () => {
  instance = await startTestInstance({ env: { REVOCATION_REFRESH_MS: "100" } });
});
afterAll(async () => instance?.close());

const search = (token: string) => instanceApi(instance.url, "GET", "/collections", { token });

describe("tokens of revoked API keys", () => {
  it("are refused once the control plane lists their key (polled), even while remembered as verified; others keep working", async () => {
    const tenant = instance.config.TENANT_ID;
    const doomed = await instance.issuer.mint({ tenant, scopes: ["read"], keyId: "key_doomed" });
    const kept = await instance.issuer.mint({ tenant, scopes: ["read"], keyId: "key_kept" });
    const keyless = await instance.issuer.mint({ tenant, scopes: ["read"] });
    expect((await search(doomed)).status).toBe(200); // now remembered as verified

    instance.issuer.revoke("key_doomed");
    let res = await search(doomed);
    for (let attempt = 0; attempt < 200 && res.status !== 401; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      res = await search(doomed);
    }
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringMatching(/revoked/) });
    expect((await search(kept)).status).toBe(200);
    expect((await search(keyless)).status).toBe(200);
  });
});

describe("the documented delay (REVOCATION_REFRESH_MS, README): about twice the refresh period", () => {
  it("under traffic a revoked key is refused once the list is older than REVOCATION_REFRESH_MS and one refresh has come back; after a quiet spell, from the first request", async () => {
    const issuer = await createTestIssuer();
    const refreshMs = 2_000;
    let clock = 0; // the list's age is judged by this clock; the fetches are real HTTP
    const revoked = new RevokedKeys({
      url: revokedKeysUrl(issuer.jwksUrl, "ten_00000000000000000000"),
      refreshMs,
      logger: pino({ level: "silent" }),
      now: () => clock,
    });
    try {
      expect(await revoked.isRevoked("key_doomed")).toBe(false); // first read: fetched, not listed
      issuer.revoke("key_doomed");

      clock = refreshMs; // not older than the period yet: the list in hand is used
      expect(await revoked.isRevoked("key_doomed")).toBe(false);
      clock = refreshMs + 1; // older: this request starts a refresh in the background
      await revoked.isRevoked("key_doomed");
      await revoked.refresh(); // the refresh that request started (one at a time)
      clock = 2 * refreshMs; // within twice the period, the key is refused
      expect(await revoked.isRevoked("key_doomed")).toBe(true);

      issuer.revoke("key_later");
      clock += 3 * refreshMs + 1; // a quiet spell: the first request waits for a fresh list
      expect(await revoked.isRevoked("key_later")).toBe(true);
    } finally {
      await issuer.close();
    }
  });
});
