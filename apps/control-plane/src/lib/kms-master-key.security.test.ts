import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DecryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { createServices } from "../services";
import { createTestDatabase, dropTestDatabase, startTestServer } from "../testing";
import { api } from "../testing/http";
import { freePort } from "../testing/process";
import { signingKeys } from "./db/schema";
import { KMS_ENCRYPTION_CONTEXT } from "./kms-data-key";
import { createLogger } from "./logger";
import { masterKeyId, resolveMasterKeys } from "./master-key";

// No KMS runs here: like ECS, it is replaced by aws-sdk-client-mock. This one keeps what a KMS
// keeps: the data keys it generated, each openable only with its key id and encryption context.
const KMS_KEY_ID = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const kms = mockClient(KMSClient);
const dataKeys = new Map<string, { plaintext: Buffer; keyId: string; context: Record<string, string> }>();
let decryptAllowed = true;

/** `aws kms generate-data-key --key-spec AES_256 --encryption-context purpose=vdb-master-key`: its CiphertextBlob. */
function generateDataKey(context: Record<string, string> = { ...KMS_ENCRYPTION_CONTEXT }) {
  const ciphertext = randomBytes(184).toString("base64");
  const plaintext = randomBytes(32);
  dataKeys.set(ciphertext, { plaintext, keyId: KMS_KEY_ID, context });
  return { ciphertext, plaintext };
}

beforeEach(() => {
  decryptAllowed = true;
  kms.reset();
  kms.on(DecryptCommand).callsFake((input: DecryptCommand["input"]) => {
    if (!decryptAllowed) {
      throw Object.assign(new Error("User is not authorized to perform: kms:Decrypt"), {
        name: "AccessDeniedException",
      });
    }
    const key = dataKeys.get(Buffer.from(input.CiphertextBlob!).toString("base64"));
    if (
      !key ||
      key.keyId !== input.KeyId ||
      JSON.stringify(key.context) !== JSON.stringify(input.EncryptionContext)
    ) {
      throw Object.assign(new Error("The ciphertext is invalid"), { name: "InvalidCiphertextException" });
    }
    return { Plaintext: new Uint8Array(key.plaintext), KeyId: KMS_KEY_ID };
  });
});
afterEach(() => kms.reset());

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

async function durableStore(): Promise<{ dataDir: string; databaseUrl: string; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "vdb-kms-"));
  tempDirs.push(dataDir);
  const databaseUrl = await createTestDatabase();
  return { dataDir, databaseUrl, drop: () => dropTestDatabase(databaseUrl) };
}

/** Every file's bytes under `dir`, for looking for a secret in them. */
function everyFile(dir: string): Buffer[] {
  const files: Buffer[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, name);
    if (statSync(file).isFile()) files.push(readFileSync(file));
  }
  return files;
}

describe("the master key from AWS KMS (VDB_MASTER_KEY_KMS_KEY_ID)", () => {
  it("seals the signing keys under a KMS data key that is stored nowhere in the clear, and opens them only through KMS", async () => {
    const store = await durableStore();
    const dataKey = generateDataKey();
    const port = String(await freePort());
    const env = {
      DATA_DIR: store.dataDir,
      PORT: port,
      VDB_MASTER_KEY_KMS_KEY_ID: KMS_KEY_ID,
      VDB_MASTER_KEY_KMS_CIPHERTEXT: dataKey.ciphertext,
      NODE_ENV: "production", // KMS satisfies production's need for a master key
    };
    try {
      const server = await startTestServer({ databaseUrl: store.databaseUrl, env });
      let token: string;
      let tenantId: string;
      try {
        const rows = await server.services.db.select().from(signingKeys);
        expect(rows.length).toBeGreaterThan(0);
        const stored = JSON.stringify(rows);
        for (const row of rows) {
          expect(row.privateJwk).toMatchObject({ enc: "A256GCM", mk: masterKeyId(dataKey.plaintext) });
          expect(row.privateJwk).not.toHaveProperty("d");
        }
        // The data key is in neither the store nor DATA_DIR (no master-key file is generated).
        for (const form of [dataKey.plaintext.toString("base64"), dataKey.plaintext.toString("hex")]) {
          expect(stored).not.toContain(form);
        }
        expect(existsSync(path.join(store.dataDir, "master-key"))).toBe(false);
        for (const file of everyFile(store.dataDir)) expect(file.includes(dataKey.plaintext)).toBe(false);
        expect(kms.commandCalls(DecryptCommand)).toHaveLength(1); // once per start

        tenantId = (
          await api(server.url, "POST", "/tenants", {
            token: server.adminToken,
            body: { slug: "kms", name: "K" },
          })
        ).body.id;
        const minted = await api(server.url, "POST", "/generate-token", {
          token: server.adminToken,
          body: { tenantId },
        });
        expect(minted.status).toBe(200);
        token = minted.body.token;
      } finally {
        await server.close();
      }

      // KMS refusing (the role lost kms:Decrypt): the start stops, saying why and what is needed.
      decryptAllowed = false;
      const config = loadConfig({ ...env, DATABASE_URL: store.databaseUrl, LOG_LEVEL: "silent" });
      await expect(createServices(config, { logger: createLogger("silent") })).rejects.toThrow(
        /AWS KMS could not decrypt VDB_MASTER_KEY_KMS_CIPHERTEXT.*AccessDeniedException.*kms:Decrypt/,
      );
      decryptAllowed = true;

      // A ciphertext generated without VDB's encryption context is refused by KMS.
      const foreign = generateDataKey({ purpose: "something-else" });
      const foreignConfig = loadConfig({
        ...env,
        VDB_MASTER_KEY_KMS_CIPHERTEXT: foreign.ciphertext,
        LOG_LEVEL: "silent",
        DATABASE_URL: store.databaseUrl,
      });
      await expect(createServices(foreignConfig, { logger: createLogger("silent") })).rejects.toThrow(
        /InvalidCiphertextException/,
      );

      // With KMS back, the same signing keys open: the token minted before still verifies.
      const again = await startTestServer({ databaseUrl: store.databaseUrl, env });
      try {
        const verified = await again.services.signingKeys.verify(token, {
          audience: `vdb:instance:${tenantId}`,
          issuer: again.config.publicUrl,
        });
        expect(verified.payload.tenant).toBe(tenantId);
      } finally {
        await again.close();
      }
    } finally {
      await store.drop();
    }
  }, 300_000);

  it("rotates: from VDB_MASTER_KEY to KMS (old key in VDB_MASTER_KEY_PREVIOUS), then to a new data key (old ciphertext in VDB_MASTER_KEY_KMS_CIPHERTEXT_PREVIOUS)", async () => {
    const store = await durableStore();
    const plainKey = randomBytes(32);
    const first = generateDataKey();
    const second = generateDataKey();
    const port = String(await freePort());
    const start = (extra: Record<string, string>) =>
      startTestServer({
        databaseUrl: store.databaseUrl,
        env: { DATA_DIR: store.dataDir, PORT: port, ...extra },
      });
    const sealedUnder = async (server: Awaited<ReturnType<typeof start>>) =>
      new Set(
        (await server.services.db.select().from(signingKeys)).map(
          (row) => (row.privateJwk as { mk: string }).mk,
        ),
      );
    try {
      const before = await start({ VDB_MASTER_KEY: plainKey.toString("base64") });
      expect(await sealedUnder(before)).toEqual(new Set([masterKeyId(plainKey)]));
      await before.close();

      const toKms = await start({
        VDB_MASTER_KEY_KMS_KEY_ID: KMS_KEY_ID,
        VDB_MASTER_KEY_KMS_CIPHERTEXT: first.ciphertext,
        VDB_MASTER_KEY_PREVIOUS: plainKey.toString("base64"),
      });
      expect(await sealedUnder(toKms)).toEqual(new Set([masterKeyId(first.plaintext)]));
      await toKms.close();

      const rotated = await start({
        VDB_MASTER_KEY_KMS_KEY_ID: KMS_KEY_ID,
        VDB_MASTER_KEY_KMS_CIPHERTEXT: second.ciphertext,
        VDB_MASTER_KEY_KMS_CIPHERTEXT_PREVIOUS: first.ciphertext,
      });
      expect(await sealedUnder(rotated)).toEqual(new Set([masterKeyId(second.plaintext)]));
      await rotated.close();

      // The new data key alone now opens everything; the plain key alone opens nothing.
      const after = await start({
        VDB_MASTER_KEY_KMS_KEY_ID: KMS_KEY_ID,
        VDB_MASTER_KEY_KMS_CIPHERTEXT: second.ciphertext,
      });
      await after.close();
      const config = loadConfig({
        DATA_DIR: store.dataDir,
        DATABASE_URL: store.databaseUrl,
        VDB_MASTER_KEY: plainKey.toString("base64"),
        LOG_LEVEL: "silent",
      });
      await expect(createServices(config, { logger: createLogger("silent") })).rejects.toThrow(
        /sealed with master key \w+, which is not configured/,
      );
    } finally {
      await store.drop();
    }
  }, 300_000);

  it("refuses a half or doubled configuration at start, saying what to set", async () => {
    const base = { DATA_DIR: mkdtempSync(path.join(tmpdir(), "vdb-kms-")), LOG_LEVEL: "silent" };
    tempDirs.push(base.DATA_DIR);
    await expect(
      resolveMasterKeys(loadConfig({ ...base, VDB_MASTER_KEY_KMS_KEY_ID: KMS_KEY_ID })),
    ).rejects.toThrow(/needs VDB_MASTER_KEY_KMS_CIPHERTEXT.*aws kms generate-data-key/);
    const both = loadConfig({
      ...base,
      VDB_MASTER_KEY_KMS_KEY_ID: KMS_KEY_ID,
      VDB_MASTER_KEY_KMS_CIPHERTEXT: generateDataKey().ciphertext,
      VDB_MASTER_KEY: randomBytes(32).toString("base64"),
    });
    await expect(resolveMasterKeys(both)).rejects.toThrow(/not both/);
    expect(() => loadConfig({ VDB_MASTER_KEY_KMS_CIPHERTEXT: "not base64!" })).toThrow(
      /VDB_MASTER_KEY_KMS_CIPHERTEXT/,
    );
    expect(existsSync(path.join(base.DATA_DIR, "master-key"))).toBe(false);
  });
});
