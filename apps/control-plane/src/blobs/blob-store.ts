import { AppError } from "@vdb/http/errors";

/** What `put` accepts: bytes in memory, a web stream (a fetch/Hono request body) or a Node stream. */
export type BlobBody = Uint8Array | ReadableStream<Uint8Array> | NodeJS.ReadableStream;

export interface PutOptions {
  contentType?: string;
  /** The body is refused with PAYLOAD_TOO_LARGE, and nothing is stored, once it passes this size. */
  maxBytes?: number;
}

export interface UploadUrlOptions {
  contentType?: string;
  /** Enforced by the disk store's upload route; S3 cannot enforce it on a presigned PUT (see S3BlobStore). */
  maxBytes: number;
  expiresInSeconds: number;
}

/** A URL a client PUTs the file's bytes to, sending `headers` with them, until `expiresAt`. */
export interface UploadUrl {
  url: string;
  method: "PUT";
  headers: Record<string, string>;
  expiresAt: string;
}

/**
 * Where uploaded files live: local disk (default) or an S3 bucket. Keys look like
 * `tenants/<tenantId>/documents/<docId>`; see `assertValidKey`. Writes are all-or-nothing: a
 * failed or refused `put` leaves the previous object (or none) in place.
 */
export interface BlobStore {
  kind: "disk" | "s3";
  put(key: string, body: BlobBody, opts?: PutOptions): Promise<{ sizeBytes: number }>;
  /** The whole object in memory (documents are at most tens of MB); NOT_FOUND when absent. */
  get(key: string): Promise<Uint8Array>;
  stat(key: string): Promise<{ sizeBytes: number } | null>;
  /** Idempotent: deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes every object under a folder prefix such as `tenants/<tenantId>/`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  createUploadUrl(key: string, opts: UploadUrlOptions): Promise<UploadUrl>;
}

/** S3's own key limit; each segment also fits a file name on any filesystem. */
const MAX_KEY_LENGTH = 1_024;
// A segment starts with a letter, digit or `_`: no `.`/`..`, no hidden (temp) files, no `-flags`.
const SEGMENT = "[A-Za-z0-9_][A-Za-z0-9._-]{0,254}";
const KEY = new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`);
const PREFIX = new RegExp(`^(?:${SEGMENT}/)+$`);

/**
 * Refuses anything that is not slash-separated segments of `[A-Za-z0-9._-]` (no leading `.` or
 * `-`, no empty segment, no leading slash), so a key can never name a path outside the store.
 *
 * @example
 * assertValidKey("tenants/ten_1/documents/doc_2"); // ok
 * assertValidKey("../etc/passwd"); // throws AppError BAD_REQUEST
 */
export function assertValidKey(key: string): void {
  if (typeof key !== "string" || key.length > MAX_KEY_LENGTH || !KEY.test(key)) {
    throw new AppError({ code: "BAD_REQUEST", message: `Invalid blob key ${JSON.stringify(key)}` });
  }
}

/**
 * A prefix is a folder: valid segments each followed by `/` (`tenants/ten_1/`). An empty
 * prefix, which would delete everything, is refused.
 */
export function assertValidPrefix(prefix: string): void {
  if (typeof prefix !== "string" || prefix.length > MAX_KEY_LENGTH || !PREFIX.test(prefix)) {
    throw new AppError({
      code: "BAD_REQUEST",
      message: `Invalid blob prefix ${JSON.stringify(prefix)}: it must look like "tenants/<id>/"`,
    });
  }
}

/** Seven days, S3's longest presigned URL; the disk store keeps the same limit. */
const MAX_UPLOAD_URL_SECONDS = 7 * 24 * 3600;

export function assertValidUploadUrlOptions(opts: UploadUrlOptions): void {
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 1) {
    throw new AppError({ code: "BAD_REQUEST", message: "maxBytes must be a positive integer" });
  }
  if (
    !Number.isInteger(opts.expiresInSeconds) ||
    opts.expiresInSeconds < 1 ||
    opts.expiresInSeconds > MAX_UPLOAD_URL_SECONDS
  ) {
    throw new AppError({
      code: "BAD_REQUEST",
      message: `expiresInSeconds must be an integer from 1 to ${MAX_UPLOAD_URL_SECONDS}`,
    });
  }
}

export function payloadTooLarge(maxBytes: number): AppError {
  return new AppError({ code: "PAYLOAD_TOO_LARGE", message: `The file is over ${maxBytes} bytes` });
}

/**
 * The body's chunks as bytes, failing with PAYLOAD_TOO_LARGE as soon as their total passes
 * `maxBytes`. Leaving the loop (by that error or any other) cancels the source stream.
 */
export async function* limitedChunks(body: BlobBody, maxBytes = Number.POSITIVE_INFINITY) {
  if (body instanceof Uint8Array) {
    if (body.byteLength > maxBytes) throw payloadTooLarge(maxBytes);
    yield body;
    return;
  }
  let total = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    total += bytes.byteLength;
    if (total > maxBytes) throw payloadTooLarge(maxBytes);
    yield bytes;
  }
}
