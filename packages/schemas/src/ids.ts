import { z } from "zod";

/**
 * Prefixed, random ids: the prefix says what an id names, so a key id pasted where a tenant id
 * belongs is rejected by validation instead of silently matching nothing.
 */
export const ID_PREFIXES = {
  tenant: "ten",
  user: "usr",
  session: "ses",
  apiKey: "key",
  audit: "aud",
  usage: "use",
  signingKey: "sig",
  request: "req",
  document: "doc",
  job: "job",
  chatSession: "cht",
  chatMessage: "msg",
  widget: "wid",
  database: "dbs",
  backup: "bkp",
  pool: "pol",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const ALPHABET = "0123456789abcdefghijkmnopqrstuvwxyz"; // no "l": easy to misread
const ID_BODY_LENGTH = 20;

/**
 * Returns a new id for `kind`, e.g. `ten_3k9x…` (20 random characters, ~103 bits).
 * @example newId("tenant") // "ten_0c4h2…"
 */
export function newId(kind: IdKind): string {
  const bytes = randomBytes(ID_BODY_LENGTH);
  let body = "";
  for (const byte of bytes) body += ALPHABET[byte % ALPHABET.length];
  return `${ID_PREFIXES[kind]}_${body}`;
}

// Random bytes are drawn 64 ids' worth at a time: every HTTP request gets a request id, and one
// getRandomValues call per id was a measurable share of a search's time in the control plane.
// Each byte is handed out once.
const randomPool = new Uint8Array(ID_BODY_LENGTH * 64);
let randomPoolOffset = randomPool.length;

function randomBytes(count: number): Uint8Array {
  if (randomPoolOffset + count > randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomPoolOffset = 0;
  }
  const bytes = randomPool.subarray(randomPoolOffset, randomPoolOffset + count);
  randomPoolOffset += count;
  return bytes;
}

/** A zod schema accepting only ids of one kind, with a message that names the expected shape. */
export function idSchema(kind: IdKind) {
  const prefix = ID_PREFIXES[kind];
  return z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{${ID_BODY_LENGTH}}$`), {
    message: `must be a ${kind} id like "${prefix}_" followed by ${ID_BODY_LENGTH} lowercase letters or digits`,
  });
}

export const TenantId = idSchema("tenant");
export type TenantId = z.infer<typeof TenantId>;
export const UserId = idSchema("user");
export type UserId = z.infer<typeof UserId>;
export const ApiKeyId = idSchema("apiKey");
export type ApiKeyId = z.infer<typeof ApiKeyId>;
export const DocumentId = idSchema("document");
export type DocumentId = z.infer<typeof DocumentId>;
export const JobId = idSchema("job");
export type JobId = z.infer<typeof JobId>;
export const BackupId = idSchema("backup");
export type BackupId = z.infer<typeof BackupId>;
export const PoolId = idSchema("pool");
export type PoolId = z.infer<typeof PoolId>;
