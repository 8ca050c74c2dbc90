import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { seedTenant, startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVdbClient } from "../index";
import { runVdb } from "./testing/run-vdb";

let server: TestServer;
let operator: Record<string, string>;
let tenantId: string;

/** `error: <message> (<CODE>, request req_…)`, the one line every server error becomes. */
const serverError = (code: string) => new RegExp(`^error: .+ \\(${code}, request req_[0-9a-z]+\\)$`, "m");

beforeAll(async () => {
  server = await startTestServer();
  operator = { VDB_URL: server.url, VDB_SESSION_TOKEN: server.adminToken };
  tenantId = (await seedTenant(server.services, "errs")).id;
}, 60_000);
afterAll(async () => server?.close());

// Every step starts `vdb` processes (about a second each under tsx); a loaded machine is slower.
describe("vdb errors", { timeout: 60_000 }, () => {
  it("a wrong API key: the server's message, code and request id, exit 1, nothing on stdout", async () => {
    for (const args of [
      ["tenants", "list"],
      ["search", "anything"],
    ]) {
      const run = await runVdb(args, { VDB_URL: server.url, VDB_API_KEY: "vdbk_not-a-real-key" });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(serverError("UNAUTHORIZED"));
    }
  });

  it("a revoked key stops working", async () => {
    const created = await runVdb(["keys", "create", "--tenant", "errs", "--scopes", "read"], operator);
    const secret = created.stdout.trim();
    const keyId = /Created key (key_\w+)/.exec(created.stderr)![1]!;
    expect((await runVdb(["tenants", "list"], { VDB_URL: server.url, VDB_API_KEY: secret })).code).toBe(0);

    const revoked = await runVdb(["keys", "revoke", keyId, "--tenant", "errs"], operator);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked key ${keyId} "vdb-cli" of errs.\n` });
    const refused = await runVdb(["tenants", "list"], { VDB_URL: server.url, VDB_API_KEY: secret });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(serverError("UNAUTHORIZED"));
  });

  it("what the server refuses: a taken slug, an invalid one, a tenant the key cannot see", async () => {
    const taken = await runVdb(["tenants", "create", "errs"], operator);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(serverError("CONFLICT"));

    const invalid = await runVdb(["tenants", "create", "No_Good"], operator);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(
      /^error: .*slug: must be lowercase .* \(VALIDATION_FAILED, request req_\w+\)$/m,
    );

    const unknown = await runVdb(["keys", "list", "--tenant", "nobody-here"], operator);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: No tenant "nobody-here" that this credential can see (NOT_FOUND)\n');
  });

  it("ingest into a tenant without an instance says to launch one, before uploading anything", async () => {
    const folder = mkdtempSync(path.join(tmpdir(), "vdb-cli-errors-"));
    try {
      writeFileSync(path.join(folder, "a.txt"), "some text");
      const run = await runVdb(["ingest", folder, "--tenant", "errs"], operator);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        "error: errs has no instance; launch it first: vdb instances launch --tenant errs\n",
      );
      const vdb = createVdbClient({ url: server.url, sessionToken: server.adminToken });
      expect((await vdb.documents.list.query({ tenantId })).items).toEqual([]);

      const empty = await runVdb(["ingest", path.join(folder, "missing")], operator);
      expect(empty).toMatchObject({ code: 2, stdout: "" });
      expect(empty.stderr).toMatch(
        /^error: no such file or folder: .*missing\nRun "vdb ingest --help" for usage\.\n$/,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("no server there: says it cannot be reached, exit 1", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await runVdb(["tenants", "list", "--url", url, "--token", "vdbs_whatever"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: cannot reach the control plane at ${url} (ECONNREFUSED)\n`);
  });

  it("a command-line mistake exits 2 with a pointer to --help, before any request", async () => {
    const run = await runVdb(["search", "q", "--where", "{nope"], { VDB_URL: server.url, VDB_API_KEY: "k" });
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toMatch(
      /^error: --where is not valid JSON: .+\nRun "vdb search --help" for usage\.\n$/,
    );
  });

  it("--help on stdout, exit 0", async () => {
    const run = await runVdb(["ingest", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: vdb ingest <folder\|file> --tenant/);
    expect(run.stderr).toBe("");
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
