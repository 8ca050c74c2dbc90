import { describe, expect, it } from "vitest";
import { isScopeGranted, ROLE_SCOPE } from "./auth";
import { ERROR_STATUS, ERROR_TRPC_CODE, ErrorCode } from "./errors";
import { idSchema, newId } from "./ids";
import { CreateApiKeyInput } from "./keys";
import { CreateTenantInput } from "./tenants";

describe("ids", () => {
  it("are prefixed, random and validated by kind", () => {
    const a = newId("tenant");
    const b = newId("tenant");
    expect(a).toMatch(/^ten_[0-9a-z]{20}$/);
    expect(a).not.toBe(b);
    expect(idSchema("tenant").safeParse(a).success).toBe(true);
    expect(idSchema("apiKey").safeParse(a).success).toBe(false);
  });

  it("stay unique and well formed across many refills of their random pool", () => {
    const ids = Array.from({ length: 10_000 }, () => newId("request"));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-z]{20}$/);
    // All 35 characters of the alphabet (no "l") show up in the random parts.
    expect(new Set(ids.map((id) => id.slice("req_".length)).join("")).size).toBe(35);
  });
});

describe("scopes", () => {
  it("are ordered read < write < admin", () => {
    expect(isScopeGranted(["admin"], "read")).toBe(true);
    expect(isScopeGranted(["read"], "write")).toBe(false);
    expect(isScopeGranted(["write"], "write")).toBe(true);
    expect(ROLE_SCOPE.viewer).toBe("read");
  });
});

describe("errors", () => {
  it("map every code to an HTTP status and a tRPC code", () => {
    for (const code of ErrorCode.options) {
      expect(ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
      expect(ERROR_TRPC_CODE[code]).toEqual(expect.any(String));
    }
  });
});

describe("inputs", () => {
  it("tenant slugs and plans", () => {
    expect(CreateTenantInput.parse({ slug: "acme-1", name: " Acme " })).toEqual({
      slug: "acme-1",
      name: "Acme",
      plan: "starter",
    });
    expect(CreateTenantInput.safeParse({ slug: "-acme", name: "x" }).success).toBe(false);
    expect(CreateTenantInput.safeParse({ slug: "acme", name: "x", plan: "gold" }).success).toBe(false);
  });

  it("API keys need distinct, known scopes and a future expiry", () => {
    const tenantId = newId("tenant");
    expect(CreateApiKeyInput.safeParse({ tenantId, name: "k", scopes: ["read"] }).success).toBe(true);
    expect(CreateApiKeyInput.safeParse({ tenantId, name: "k", scopes: ["read", "read"] }).success).toBe(
      false,
    );
    expect(
      CreateApiKeyInput.safeParse({
        tenantId,
        name: "k",
        scopes: ["read"],
        expiresAt: "2000-01-01T00:00:00Z",
      }).success,
    ).toBe(false);
  });
});
