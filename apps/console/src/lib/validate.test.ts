import { CreateApiKeyInput } from "@vdb/schemas/keys";
import { CreateTenantInput } from "@vdb/schemas/tenants";
import { describe, expect, it } from "vitest";
import { validate } from "./validate";
import { embedSnippet, parseOrigins } from "./widget-settings";

describe("form validation with the shared schemas", () => {
  it("returns the parsed value with defaults filled in", () => {
    expect(validate(CreateTenantInput, { slug: "acme", name: " Acme " })).toEqual({
      ok: true,
      data: { slug: "acme", name: "Acme", plan: "starter" },
    });
  });

  it("returns the first message per field, by dotted path", () => {
    const result = validate(CreateApiKeyInput, {
      tenantId: "ten_00000000000000000000",
      name: "",
      scopes: [],
      expiresAt: "2000-01-01T00:00:00.000Z",
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(Object.keys(result.errors).sort()).toEqual(["expiresAt", "name", "scopes"]);
      expect(result.errors.scopes).toBe("must name at least one scope");
      expect(result.errors.expiresAt).toBe("must be in the future");
    }
  });
});

describe("widget settings", () => {
  it("reads one origin per line (or comma), ignoring blanks", () => {
    expect(parseOrigins("https://a.com\n\n  https://b.com , http://localhost:5173\n")).toEqual([
      "https://a.com",
      "https://b.com",
      "http://localhost:5173",
    ]);
  });

  it("builds the embed snippet on the public URL", () => {
    expect(embedSnippet("https://vdb.example.com/", "wid_abc")).toBe(
      '<script src="https://vdb.example.com/widget.js" data-widget-id="wid_abc" async></script>',
    );
  });
});
