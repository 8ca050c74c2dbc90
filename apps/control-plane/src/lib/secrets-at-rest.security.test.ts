import { randomBytes } from "node:crypto";
import { lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { createServices } from "../services";
import { createTestDatabase, dropTestDatabase, startTestServer, testStoreKind } from "../testing";
import { api } from "../testing/http";
import { freePort, startControlPlaneProcess } from "../testing/process";
import { signingKeys } from "./db/schema";
import { createLogger } from "./logger";
import { isSealedSecret, MasterKeys, masterKeyId } from "./master-key";

const newMasterKey = () => randomBytes(32).toString("base64");
const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "vdb-at-rest-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A store that outlives one control plane: PGlite files in DATA_DIR, or a PostgreSQL database. */
async function durableStore(): Promise<{ dataDir: string; databaseUrl: string; drop(): Promise<void> }> {
  const dataDir = tempDir();
  const databaseUrl = await createTestDatabase();
  return { dataDir, databaseUrl, drop: () => dropTestDatabase(databaseUrl) };
}

describe("private signing keys at rest", () => {
  it("are stored sealed (AES-256-GCM under the master key), never as a bare JWK, and still sign", async () => {
    const masterKey = newMasterKey();
    const server = await startTestServer({ env: { VDB_MASTER_KEY: masterKey } });
    try {
      const rows = await server.services.db.select().from(signingKeys);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.privateJwk).toMatchObject({
          enc: "A256GCM",
          mk: masterKeyId(Buffer.from(masterKey, "base64")),
        });
        expect(row.privateJwk).not.toHaveProperty("d");
        expect(JSON.stringify(row.privateJwk)).not.toContain('"kty"');
      }
      const tenant = await api(server.url, "POST", "/tenants", {
        token: server.adminToken,
        body: { slug: "at-rest", name: "A" },
      });
      const token = await api(server.url, "POST", "/generate-token", {
        token: server.adminToken,
        body: { tenantId: tenant.body.id },
      });
      expect(token.status).toBe(200);
      const verified = await server.services.signingKeys.verify(token.body.token, {
        audience: `vdb:instance:${tenant.body.id}`,
        issuer: server.config.publicUrl,
      });
      expect(verified.payload.tenant).toBe(tenant.body.id);
    } finally {
      await server.close();
    }
  });

  it("a plaintext row from before is sealed at the next start; a master key rotates with VDB_MASTER_KEY_PREVIOUS; an unknown one stops the start", async () => {
    const store = await durableStore();
    const oldKey = newMasterKey();
    const newKey = newMasterKey();
    // One port throughout: it is the issuer of the tokens, which must verify across restarts.
    const port = String(await freePort());
    const env = (extra: Record<string, string>) => ({ DATA_DIR: store.dataDir, PORT: port, ...extra });
    try {
      // An old deployment: its active key stored in the clear.
      const first = await startTestServer({
        databaseUrl: store.databaseUrl,
        env: env({ VDB_MASTER_KEY: oldKey }),
      });
      const [row] = await first.services.db
        .select()
        .from(signingKeys)
        .where(eq(signingKeys.status, "active"));
      const plainJwk = JSON.parse(
        new MasterKeys(Buffer.from(oldKey, "base64")).open(row!.privateJwk as never, row!.kid),
      );
      expect(plainJwk.d).toEqual(expect.any(String));
      await first.services.db
        .update(signingKeys)
        .set({ privateJwk: plainJwk })
        .where(eq(signingKeys.kid, row!.kid));
      const tenant = await api(first.url, "POST", "/tenants", {
        token: first.adminToken,
        body: { slug: "rotating", name: "R" },
      });
      await first.close();

      // Restarted with the old master key: the clear row is sealed under it.
      const second = await startTestServer({
        databaseUrl: store.databaseUrl,
        env: env({ VDB_MASTER_KEY: oldKey }),
      });
      const [sealed] = await second.services.db
        .select()
        .from(signingKeys)
        .where(eq(signingKeys.kid, row!.kid));
      expect(isSealedSecret(sealed!.privateJwk)).toBe(true);
      expect(sealed!.privateJwk).toMatchObject({ mk: masterKeyId(Buffer.from(oldKey, "base64")) });
      expect(JSON.stringify(sealed!.privateJwk)).not.toContain(plainJwk.d);
      const before = await api(second.url, "POST", "/generate-token", {
        token: second.adminToken,
        body: { tenantId: tenant.body.id },
      });
      await second.close();

      // Rotation: the new key in VDB_MASTER_KEY, the old one in VDB_MASTER_KEY_PREVIOUS.
      const third = await startTestServer({
        databaseUrl: store.databaseUrl,
        env: env({ VDB_MASTER_KEY: newKey, VDB_MASTER_KEY_PREVIOUS: oldKey }),
      });
      const rows = await third.services.db.select().from(signingKeys);
      for (const resealed of rows) {
        expect(resealed.privateJwk).toMatchObject({ mk: masterKeyId(Buffer.from(newKey, "base64")) });
      }
      const audience = { audience: `vdb:instance:${tenant.body.id}`, issuer: third.config.publicUrl };
      await third.services.signingKeys.verify(before.body.token, audience);
      const after = await api(third.url, "POST", "/generate-token", {
        token: third.adminToken,
        body: { tenantId: tenant.body.id },
      });
      expect(after.status).toBe(200);
      await third.services.signingKeys.verify(after.body.token, audience);
      await third.close();

      // The new key alone now suffices; the old key alone no longer opens anything.
      const fourth = await startTestServer({
        databaseUrl: store.databaseUrl,
        env: env({ VDB_MASTER_KEY: newKey }),
      });
      await fourth.close();
      const config = loadConfig({
        ...env({ VDB_MASTER_KEY: oldKey }),
        DATABASE_URL: store.databaseUrl,
        LOG_LEVEL: "silent",
      });
      await expect(createServices(config, { logger: createLogger("silent") })).rejects.toThrow(
        /sealed with master key \w+, which is not configured: set it as VDB_MASTER_KEY/,
      );
    } finally {
      await store.drop();
    }
  }, 300_000);

  it("production without VDB_MASTER_KEY stops the start with a message saying what to set; a malformed key is refused", async () => {
    const dataDir = tempDir();
    const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: "memory://", NODE_ENV: "production" });
    await expect(createServices(config, { logger: createLogger("silent") })).rejects.toThrow(
      /VDB_MASTER_KEY is required when NODE_ENV=production.*openssl rand -base64 32/,
    );
    expect(() => loadConfig({ VDB_MASTER_KEY: "too-short" })).toThrow(
      /VDB_MASTER_KEY: must be base64 of exactly 32 bytes/,
    );
    expect(() => loadConfig({ VDB_MASTER_KEY: newMasterKey(), VDB_MASTER_KEY_PREVIOUS: "nope" })).toThrow(
      /VDB_MASTER_KEY_PREVIOUS/,
    );
  });
});

/** Every entry under `dir` with group or other permission bits, as `mode path`. */
function looseEntries(dir: string): string[] {
  const loose: string[] = [];
  const visit = (entry: string) => {
    const stat = lstatSync(entry);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0)
      loose.push(`${(stat.mode & 0o777).toString(8)} ${path.relative(dir, entry)}`);
    if (stat.isDirectory()) for (const name of readdirSync(entry)) visit(path.join(entry, name));
  };
  visit(dir);
  return loose;
}

// A real process, as `npm start` runs it: PGlite files, its umask, its banner and its access log.
describe.runIf(testStoreKind() === "pglite")("a control plane's first start on embedded defaults", () => {
  it("makes DATA_DIR 0700 and everything in it owner-only (PGlite's files and uploads too), keeps upload tokens out of its log and a chosen admin password out of its banner", async () => {
    const dataDir = path.join(tempDir(), "data");
    const password = `chosen-${randomBytes(8).toString("hex")}`;
    const cp = await startControlPlaneProcess(
      {
        DATA_DIR: dataDir,
        DATABASE_URL: "",
        LOG_LEVEL: "info",
        VDB_ADMIN_EMAIL: "owner@vdb.test",
        VDB_ADMIN_PASSWORD: password,
      },
      120_000,
    );
    try {
      expect(cp.output()).toContain("Log in as:   owner@vdb.test (password from VDB_ADMIN_PASSWORD)");
      expect(cp.output()).not.toContain(password);
      const session = await api(cp.url, "POST", "/auth/login", {
        body: { email: "owner@vdb.test", password },
      });
      expect(session.status).toBe(200);
      const tenant = await api(cp.url, "POST", "/tenants", {
        token: session.body.token,
        body: { slug: "modes", name: "M" },
      });
      const started = await api(cp.url, "POST", `/tenants/${tenant.body.id}/documents/uploads`, {
        token: session.body.token,
        body: { filename: "notes.txt", contentType: "text/plain", sizeBytes: 5 },
      });
      expect(started.status).toBe(201);
      const uploadUrl: string = started.body.upload.url;
      const put = await fetch(uploadUrl, {
        method: "PUT",
        headers: started.body.upload.headers,
        body: "hello",
      });
      expect(put.status).toBe(201);
      const uploadToken = uploadUrl.split("/").pop()!;

      expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
      expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(["pglite", "blobs", "master-key"]));
      expect(looseEntries(dataDir)).toEqual([]);

      // The access-log line reaches the child's stdout after the answer: wait for it, not a race.
      await expect
        .poll(() => cp.output(), { timeout: 60_000, interval: 100 })
        .toContain("/api/v1/uploads/[redacted]");
      expect(cp.output()).not.toContain(uploadToken);
    } finally {
      await cp.stop();
    }
  }, 240_000);
});
