import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startChroma, startTestInstance, type TestChroma, type TestInstance } from "../testing";

let chroma: TestChroma;
let instance: TestInstance;

beforeAll(async () => {
  chroma = await startChroma();
  instance = await startTestInstance({ chromaUrl: chroma.url });
});
afterAll(async () => {
  await instance?.close();
  await chroma?.stop();
});

describe("when Chroma is gone", () => {
  it("healthz says degraded with 503, and data routes answer 503 without crashing", async () => {
    expect((await instanceApi(instance.url, "GET", "/healthz")).status).toBe(200);
    await chroma.stop();

    const health = await instanceApi(instance.url, "GET", "/healthz", {
      token: await instance.token(["read"]),
    });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({
      status: "degraded",
      tenantId: instance.config.TENANT_ID,
      chroma: { heartbeat: false, version: null },
    });
    // A supervisor's or load balancer's probe, without a token: the status alone.
    const anonymous = await instanceApi(instance.url, "GET", "/healthz");
    expect(anonymous.status).toBe(503);
    expect(anonymous.body).toEqual({ status: "degraded" });

    const token = await instance.token(["write"]);
    for (const [path, body] of [
      ["/embed", { ids: ["x"], documents: ["x"] }],
      ["/search", { query: "x" }],
      ["/delete", { ids: ["x"] }],
    ] as const) {
      const res = await instanceApi(instance.url, "POST", path, { token, body });
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(res.body.error.code).toBe("SERVICE_UNAVAILABLE");
    }
  });
});
