import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startTestInstance, type TestInstance } from "../testing";

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
