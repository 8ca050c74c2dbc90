import { describe, expect, it } from "vitest";
import { envDrift } from "./reconciler";

const launched = {
  TENANT_ID: "ten_1",
  PLAN: "starter",
  MODEL_NAME: "hash",
  DIMENSION: "64",
  MAX_DOCS: "10000",
  JWKS_URL: "http://cp/.well-known/jwks.json",
  TOKEN_ISSUER: "http://cp",
  LOG_LEVEL: "info",
};

describe("envDrift: what makes the reconciler restart a running instance", () => {
  it("names the plan's variables when the plan changed", () => {
    expect(envDrift(launched, { ...launched, PLAN: "pro", MAX_DOCS: "1000000" })).toEqual([
      "PLAN",
      "MAX_DOCS",
    ]);
  });

  it("restarts for a new token issuer, never for a log level", () => {
    expect(
      envDrift(launched, { ...launched, TOKEN_ISSUER: "https://vdb.example", LOG_LEVEL: "debug" }),
    ).toEqual(["TOKEN_ISSUER"]);
    expect(envDrift(launched, { ...launched, LOG_LEVEL: "warn" })).toEqual([]);
  });

  it("leaves an instance started before launch_env existed alone", () => {
    expect(envDrift(null, { ...launched, PLAN: "pro" })).toEqual([]);
  });
});
