import { describe, expect, it } from "vitest";
import { curlCommand, keySnippet, shellQuote } from "./snippets";

const target = { origin: "https://vdb.example.com", tenantId: "ten_abc", scopes: ["read"] as const };

describe("code snippets", () => {
  it("quotes shell words so any JSON survives", () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    expect(curlCommand("http://127.0.0.1:8787", "/search", { query: "Bob's notes" })).toBe(
      [
        "curl -s 'http://127.0.0.1:8787/api/v1/search' \\",
        `  -H "authorization: Bearer $VDB_API_KEY" -H 'content-type: application/json' \\`,
        `  -d '{"query":"Bob'\\''s notes"}'`,
      ].join("\n"),
    );
  });

  it("uses the real address and only a placeholder for the key, in every language", () => {
    for (const language of ["curl", "typescript", "python", "chromadb"] as const) {
      const text = keySnippet(language, target);
      expect(text).toMatch(/VDB_API_KEY/);
      expect(text).not.toMatch(/vdbk_/);
    }
    expect(keySnippet("typescript", target)).toContain('url: "https://vdb.example.com"');
    expect(keySnippet("typescript", target)).toContain('"ten_abc"');
    expect(keySnippet("python", target)).toContain('BASE = "https://vdb.example.com/api/v1"');
    const chromadb = keySnippet("chromadb", target);
    expect(chromadb).toContain('host="vdb.example.com"');
    expect(chromadb).toContain("port=443");
    expect(chromadb).toContain("ssl=True");
    expect(keySnippet("chromadb", { ...target, origin: "http://127.0.0.1:8787" })).toContain("port=8787");
  });

  it("shows a write only to keys that may write", () => {
    expect(keySnippet("curl", target)).not.toContain("/embed");
    expect(keySnippet("curl", { ...target, scopes: ["read", "write"] })).toContain("/api/v1/embed");
    expect(keySnippet("python", target)).not.toContain("/embed");
    expect(keySnippet("python", { ...target, scopes: ["write"] })).toContain('call("/embed"');
  });
});
