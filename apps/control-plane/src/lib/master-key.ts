import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { Config } from "../config";
import { decryptDataKey } from "./kms-data-key";

const KEY_BYTES = 32;
const IV_BYTES = 12;
const MASTER_KEY_FILE = "master-key";

/** A secret sealed under a master key: AES-256-GCM, bound to what it belongs to (`aad`). */
export interface SealedSecret {
  enc: "A256GCM";
  /** Which master key sealed it (a digest, never the key). */
  mk: string;
  iv: string;
  tag: string;
  ct: string;
}

/**
 * The keys that protect secrets at rest (today: the private signing keys). `current` seals;
 * `previous` keys only open what they sealed, so the master key can rotate: start with the new
 * key in VDB_MASTER_KEY and the old one in VDB_MASTER_KEY_PREVIOUS, and every secret is
 * re-sealed under the new key at start; then drop the old one.
 */
export class MasterKeys {
  private readonly byId = new Map<string, Buffer>();
  readonly currentId: string;

  constructor(
    private readonly current: Buffer,
    previous: Buffer[] = [],
  ) {
    this.currentId = masterKeyId(current);
    this.byId.set(this.currentId, current);
    for (const key of previous) this.byId.set(masterKeyId(key), key);
  }

  seal(plaintext: string, aad: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.current, iv).setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return {
      enc: "A256GCM",
      mk: this.currentId,
      iv: iv.toString("base64url"),
      tag: cipher.getAuthTag().toString("base64url"),
      ct: ct.toString("base64url"),
    };
  }

  /** Throws a message naming the missing master key when none configured sealed it. */
  open(sealed: SealedSecret, aad: string): string {
    const key = this.byId.get(sealed.mk);
    if (!key) {
      throw new Error(
        `A secret in the store was sealed with master key ${sealed.mk}, which is not configured: set it as VDB_MASTER_KEY or VDB_MASTER_KEY_PREVIOUS (or its KMS ciphertext as VDB_MASTER_KEY_KMS_CIPHERTEXT or VDB_MASTER_KEY_KMS_CIPHERTEXT_PREVIOUS)`,
      );
    }
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64url"))
      .setAAD(Buffer.from(aad))
      .setAuthTag(Buffer.from(sealed.tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }

  isCurrent(sealed: SealedSecret): boolean {
    return sealed.mk === this.currentId;
  }
}

export function isSealedSecret(value: unknown): value is SealedSecret {
  return typeof value === "object" && value !== null && (value as { enc?: unknown }).enc === "A256GCM";
}

/** A short public name for a master key: the first 16 hex digits of its SHA-256. */
export function masterKeyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

/**
 * VDB_MASTER_KEY (+ VDB_MASTER_KEY_PREVIOUS); or, with VDB_MASTER_KEY_KMS_KEY_ID, a data key that
 * AWS KMS decrypts from VDB_MASTER_KEY_KMS_CIPHERTEXT (+ VDB_MASTER_KEY_KMS_CIPHERTEXT_PREVIOUS);
 * or, outside production, a key generated at first start and kept in DATA_DIR/master-key (0600),
 * as UPLOAD_URL_SECRET is. In production (NODE_ENV=production) a missing key stops the start: a
 * key generated on one machine's disk would be lost with it, or differ between control planes
 * sharing one database.
 */
export async function resolveMasterKeys(config: Config, opts: { kms?: KMSClient } = {}): Promise<MasterKeys> {
  const previous = config.VDB_MASTER_KEY_PREVIOUS;
  const kmsKeyId = config.VDB_MASTER_KEY_KMS_KEY_ID;
  if (kmsKeyId) {
    if (config.VDB_MASTER_KEY) {
      throw new Error(
        "Set VDB_MASTER_KEY or VDB_MASTER_KEY_KMS_KEY_ID, not both (moving to KMS: put the old VDB_MASTER_KEY in VDB_MASTER_KEY_PREVIOUS)",
      );
    }
    if (!config.VDB_MASTER_KEY_KMS_CIPHERTEXT) {
      throw new Error(
        `VDB_MASTER_KEY_KMS_KEY_ID needs VDB_MASTER_KEY_KMS_CIPHERTEXT: the output of \`aws kms generate-data-key --key-id ${kmsKeyId} --key-spec AES_256 --encryption-context purpose=vdb-master-key --query CiphertextBlob --output text\``,
      );
    }
    const decrypt = (ciphertext: string, setting: string) =>
      decryptDataKey({ keyId: kmsKeyId, ciphertext, setting, ...(opts.kms ? { client: opts.kms } : {}) });
    const current = await decrypt(config.VDB_MASTER_KEY_KMS_CIPHERTEXT, "VDB_MASTER_KEY_KMS_CIPHERTEXT");
    const previousDataKeys = await Promise.all(
      config.VDB_MASTER_KEY_KMS_CIPHERTEXT_PREVIOUS.map((ciphertext) =>
        decrypt(ciphertext, "VDB_MASTER_KEY_KMS_CIPHERTEXT_PREVIOUS"),
      ),
    );
    return new MasterKeys(current, [...previous, ...previousDataKeys]);
  }
  if (config.VDB_MASTER_KEY) return new MasterKeys(config.VDB_MASTER_KEY, previous);
  if (config.NODE_ENV === "production") {
    throw new Error(
      "VDB_MASTER_KEY is required when NODE_ENV=production: it encrypts the token signing keys at rest. Generate one with `openssl rand -base64 32` (or use AWS KMS: VDB_MASTER_KEY_KMS_KEY_ID)",
    );
  }
  const file = path.join(config.DATA_DIR, MASTER_KEY_FILE);
  if (!existsSync(file)) {
    try {
      writeFileSync(file, randomBytes(KEY_BYTES).toString("base64"), { mode: 0o600, flag: "wx" });
    } catch (error) {
      // Another process starting on the same DATA_DIR wrote it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  const key = parseMasterKey(readFileSync(file, "utf8"));
  if (!key) throw new Error(`${file} does not hold a base64 master key of 32 bytes`);
  return new MasterKeys(key, previous);
}

/** Parses a base64 master key of exactly 32 bytes (config validation). */
export function parseMasterKey(value: string): Buffer | null {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null;
  const key = Buffer.from(trimmed, "base64");
  return key.length === KEY_BYTES ? key : null;
}
