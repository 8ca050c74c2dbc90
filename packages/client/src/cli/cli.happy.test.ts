import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVdbClient } from "../index";
import { runVdb } from "./testing/run-vdb";

/**
 * One operator-to-user journey through the real `vdb` process against a real control plane:
 * each step uses what the previous one made (the tenant, then its key, then its instance…).
 */
let server: TestServer;
let operator: Record<string, string>;
let folder: string;
let secret = "";
let tenantId = "";

beforeAll(async () => {
  server = await startTestServer();
  operator = { VDB_URL: server.url, VDB_SESSION_TOKEN: server.adminToken };
  folder = mkdtempSync(path.join(tmpdir(), "vdb-cli-ingest-"));
  writeFileSync(
    path.join(folder, "guide.md"),
    "# Security\n\nRotate your API keys every 90 days.\n\n## Passwords\n\nUse a password manager for every account.\n",
  );
  writeFileSync(path.join(folder, "notes.txt"), "The cafeteria serves lunch from noon until two.");
  // A PDF header, then nothing a PDF reader can use.
  writeFileSync(
    path.join(folder, "broken.pdf"),
    "%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a pdf body\n",
  );
  writeFileSync(path.join(folder, "ignored.xlsx"), "not picked up: not an ingestible type");
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

const withKey = () => ({ VDB_URL: server.url, VDB_API_KEY: secret });

// Every step starts `vdb` processes (about a second each under tsx); a loaded machine is slower.
describe("vdb, from a new tenant to search", { timeout: 60_000 }, () => {
  it("tenants create makes a tenant; tenants list shows it, as a table and as JSON", async () => {
    const created = await runVdb(
      ["tenants", "create", "acme", "--name", "Acme Inc", "--plan", "pro"],
      operator,
    );
    expect(created).toMatchObject({ code: 0, stderr: "" });
    expect(created.stdout).toMatch(/^Created tenant acme \(ten_[0-9a-z]{20}\) on the pro plan\.\n$/);

    const table = await runVdb(["tenants", "list"], operator);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^SLUG\s+NAME\s+PLAN\s+ID\s+CREATED$/);
    expect(table.stdout).toMatch(/^acme\s+Acme Inc\s+pro\s+ten_/m);

    const json = await runVdb(["tenants", "list", "--search", "acm", "--json"], operator);
    const tenants = JSON.parse(json.stdout) as { id: string; slug: string; plan: string }[];
    expect(tenants).toEqual([expect.objectContaining({ slug: "acme", plan: "pro" })]);
    tenantId = tenants[0]!.id;
  });

  it("keys create prints the secret alone on stdout, and the key then works", async () => {
    const created = await runVdb(
      [
        "keys",
        "create",
        "--tenant",
        "acme",
        "--scopes",
        "read,write,admin",
        "--name",
        "ci",
        "--expires",
        "30d",
      ],
      operator,
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^vdbk_\S+\n$/);
    expect(created.stderr).toMatch(
      /Created key key_\w+ "ci" \(read, write, admin\) for acme, expiring \d{4}-/,
    );
    expect(created.stderr).toMatch(/shown only now/);
    secret = created.stdout.trim();

    // The key sees exactly its own tenant, found by slug through it.
    const listed = await runVdb(["tenants", "list", "--json"], withKey());
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: tenantId, slug: "acme" })]);
    const keys = await runVdb(["keys", "list", "--tenant", "acme"], withKey());
    expect(keys.stdout).toMatch(
      /^key_\w+\s+ci\s+vdbk_\S+…\s+read,write,admin\s+\d{4}-\d\d-\d\d\s+\S.*active$/m,
    );
    expect(keys.stdout).not.toContain(secret);
  });

  it("instances launch waits until the instance runs, showing its states", async () => {
    const launched = await runVdb(["instances", "launch", "--tenant", "acme"], operator);
    expect(launched.code).toBe(0);
    expect(launched.stderr).toMatch(/^acme: (pending|starting)$/m);
    expect(launched.stderr.trimEnd().split("\n").at(-1)).toBe("acme: running");
    expect(launched.stdout).toMatch(/^acme's instance is running at http:\/\/127\.0\.0\.1:\d+\.\n$/);
    const instance = await runVdb(["instances", "get", "--tenant", tenantId, "--json"], withKey());
    expect(JSON.parse(instance.stdout)).toMatchObject({ tenantId, state: "running", model: "hash" });
  });

  it("ingest uploads the folder: good files become ready, a broken one fails with its reason, exit 1", async () => {
    const run = await runVdb(["ingest", folder, "--chunk-size", "60", "--chunk-overlap", "10"], withKey());
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^FILE\s+STATUS\s+CHUNKS\s+DOCUMENT\s+REASON$/);
    expect(run.stdout).toMatch(
      /^broken\.pdf\s+failed\s+0\s+doc_\w+\s+\S.*(damaged|could not be read|not a PDF)/im,
    );
    expect(run.stdout).toMatch(/^guide\.md\s+ready\s+1\s+doc_\w+$/m);
    expect(run.stdout).toMatch(/^notes\.txt\s+ready\s+1\s+doc_\w+$/m);
    expect(run.stdout).not.toContain("ignored.xlsx");
    expect(lines.at(-1)).toBe("3 files: 2 ready, 1 failed.");
    // Not a terminal: one progress line per finished file, no carriage returns.
    expect(run.stderr).toMatch(/^\[\d\/3\] guide\.md: ready, 1 chunk$/m);
    expect(run.stderr).toMatch(/^\[\d\/3\] broken\.pdf: failed: /m);
    expect(run.stderr).not.toContain("\r");

    const vdb = createVdbClient({ url: server.url, apiKey: secret });
    const { items } = await vdb.documents.list.query({ tenantId, limit: 100 });
    expect(items.map((document) => [document.title, document.status]).sort()).toEqual([
      ["broken.pdf", "failed"],
      ["guide.md", "ready"],
      ["notes.txt", "ready"],
    ]);
  });

  it("search finds the ingested markdown, and --where narrows it", async () => {
    const found = await runVdb(["search", "rotate API keys password manager", "-n", "2"], withKey());
    expect(found.code).toBe(0);
    const [first] = found.stdout.split("\n\n");
    // Hybrid by default: the score (fused) it is ordered by, the hit's similarity, BM25 score and place in both rankings.
    expect(first).toMatch(
      /^1\. guide\.md · Security {2}\(score 0\.\d{4} fused; similarity -?\d\.\d{3}; bm25 \d+\.\d{2}; vector #\d+, keyword #1\)\n {3}doc_\w+:0\n {3}.*password manager/,
    );
    const byKeyword = await runVdb(
      ["search", "rotate password manager", "--mode", "keyword", "--json"],
      withKey(),
    );
    const keywordHits = JSON.parse(byKeyword.stdout) as { mode: string; results: { document: string }[] };
    expect(keywordHits.mode).toBe("keyword");
    expect(keywordHits.results.every((hit) => /rotat|password|manag/i.test(hit.document))).toBe(true);
    const byVector = await runVdb(
      ["search", "rotate password manager", "--mode", "vector", "-n", "1"],
      withKey(),
    );
    expect(byVector.stdout).toMatch(/^1\. .* {2}\(score -?\d\.\d{3} similarity\)\n/);

    const narrowed = await runVdb(
      ["search", "password", "--tenant", "acme", "--where", '{"title":"notes.txt"}', "--json"],
      withKey(),
    );
    const { results } = JSON.parse(narrowed.stdout) as { results: { metadata: { title: string } }[] };
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((hit) => hit.metadata.title === "notes.txt")).toBe(true);
  });

  it("chat prints the answer and its numbered citations; --session follows up", async () => {
    const asked = await runVdb(
      ["chat", "How often should API keys be rotated?", "--tenant", "acme"],
      withKey(),
    );
    expect(asked.code).toBe(0);
    const [answer, sources] = asked.stdout.split("\n\nSources:\n");
    expect(answer).toMatch(/\[1\]/);
    expect(sources).toMatch(/^ {2}\[1\] guide\.md \(Security\)\n {6}.*Rotate your API keys/);
    const session = /^session (cht_\w+) \((?:llm|extractive) answer; follow up with --session \1\)$/m.exec(
      asked.stderr,
    );
    expect(session).not.toBeNull();

    const followUp = await runVdb(["chat", "And passwords?", "--session", session![1]!, "--json"], withKey());
    expect(followUp.code).toBe(0);
    const reply = JSON.parse(followUp.stdout) as {
      sessionId: string;
      citations: { n: number; title: string }[];
    };
    expect(reply.sessionId).toBe(session![1]);
    expect(reply.citations.map((citation) => citation.n)).toEqual(
      reply.citations.map((_, index) => index + 1),
    );
  });
});
