import { ingestText, startTestServer, type TestServer } from "@vdb/control-plane/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVdb } from "./testing/run-vdb";

let server: TestServer;
let env: Record<string, string>;
let tenantId = "";

beforeAll(async () => {
  server = await startTestServer();
  env = { VDB_URL: server.url, VDB_SESSION_TOKEN: server.adminToken };
  expect((await runVdb(["tenants", "create", "saved", "--name", "Saved", "--plan", "pro"], env)).code).toBe(
    0,
  );
  const listed = await runVdb(["tenants", "list", "--json"], env);
  tenantId = (JSON.parse(listed.stdout) as { id: string }[])[0]!.id;
  expect((await runVdb(["instances", "launch", "--tenant", "saved"], env)).code).toBe(0);
  await ingestText(server, tenantId, "Leave", "Employees get thirty days of paid leave.", 240_000);
}, 300_000);
afterAll(async () => server?.close());

describe("vdb backups", { timeout: 120_000 }, () => {
  it("create waits for the backup and reports its counts; list shows it; restore puts it back", async () => {
    const created = await runVdb(["backups", "create", "--tenant", "saved"], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /^Backup bkp_[0-9a-z]{20} completed: 1 records in 1 collections, 1 documents, /,
    );
    const backupId = /bkp_[0-9a-z]{20}/.exec(created.stdout)![0];

    const list = await runVdb(["backups", "list", "--tenant", "saved"], env);
    expect(list.stdout.split("\n")[0]).toMatch(
      /^ID\s+CREATED\s+STATUS\s+SIZE\s+RECORDS\s+DOCUMENTS\s+SOURCE$/,
    );
    expect(list.stdout).toMatch(
      new RegExp(`^${backupId}\\s+\\S+ \\S+\\s+completed\\s+.+\\s+1\\s+1\\s+backup$`, "m"),
    );

    const restored = await runVdb(["backups", "restore", backupId, "--tenant", "saved"], env);
    expect(restored).toMatchObject({ code: 0, stdout: `Restored 1 records of ${backupId} into saved.\n` });

    const missing = await runVdb(["backups", "restore", "--tenant", "saved"], env);
    expect(missing.code).toBe(2);
  });
});
