import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { AppError } from "@vdb/http/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BlobStoreHarness,
  type BlobStoreKind,
  S3_PAGE_SIZE,
  startBlobStoreHarness,
} from "./test-harness";

// One contract, two stores: whatever passes here behaves the same on a laptop and on S3.

const MB = 1_000_000;
const MiB = 1024 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A web stream of `bytes` in uneven chunks, as a request body arrives. */
function webStreamOf(bytes: Uint8Array, chunkBytes = 65_537): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

function nodeStreamOf(bytes: Uint8Array, chunkBytes = 1_000_003): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
    chunks.push(Buffer.from(bytes.subarray(offset, offset + chunkBytes)));
  }
  return Readable.from(chunks);
}

async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += limit) {
    await Promise.all(items.slice(start, start + limit).map(fn));
  }
}

describe.each<BlobStoreKind>(["disk", "s3"])("%s blob store", (kind) => {
  let harness: BlobStoreHarness;
  beforeAll(async () => {
    harness = await startBlobStoreHarness(kind);
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("round-trips every byte value and reports the size", async () => {
    const bytes = new Uint8Array(256 * 40).map((_, index) => index % 256);
    const key = "tenants/ten_rt/documents/doc_bytes";
    expect(await harness.store.put(key, bytes, { contentType: "application/octet-stream" })).toEqual({
      sizeBytes: bytes.byteLength,
    });
    expect(Buffer.from(await harness.store.get(key)).equals(Buffer.from(bytes))).toBe(true);
    expect(await harness.store.stat(key)).toEqual({ sizeBytes: bytes.byteLength });
  });

  it("stores a streamed 5 MB body byte for byte", async () => {
    const bytes = randomBytes(5 * MB);
    const key = "tenants/ten_rt/documents/doc_5mb.pdf";
    const { sizeBytes } = await harness.store.put(key, webStreamOf(bytes), {
      contentType: "application/pdf",
    });
    expect(sizeBytes).toBe(5 * MB);
    const stored = await harness.store.get(key);
    expect(stored.byteLength).toBe(5 * MB);
    expect(sha256(stored)).toBe(sha256(bytes));
  });

  it("stores a streamed body bigger than one S3 multipart part (12 MiB, Node stream)", async () => {
    const bytes = randomBytes(12 * MiB);
    const key = "tenants/ten_rt/documents/doc_12mib";
    expect(await harness.store.put(key, nodeStreamOf(bytes), { maxBytes: 12 * MiB })).toEqual({
      sizeBytes: 12 * MiB,
    });
    expect(sha256(await harness.store.get(key))).toBe(sha256(bytes));
    expect(await harness.store.stat(key)).toEqual({ sizeBytes: 12 * MiB });
  });

  it("stores an empty body", async () => {
    const key = "tenants/ten_rt/documents/doc_empty";
    expect(await harness.store.put(key, webStreamOf(new Uint8Array(0)))).toEqual({ sizeBytes: 0 });
    expect((await harness.store.get(key)).byteLength).toBe(0);
    expect(await harness.store.stat(key)).toEqual({ sizeBytes: 0 });
  });

  it("replaces an object put again under the same key", async () => {
    const key = "tenants/ten_rt/documents/doc_replaced";
    await harness.store.put(key, Buffer.from("first version, longer"));
    await harness.store.put(key, webStreamOf(Buffer.from("second")));
    expect(Buffer.from(await harness.store.get(key)).toString()).toBe("second");
    expect(await harness.store.stat(key)).toEqual({ sizeBytes: 6 });
  });

  it("answers a missing key with null from stat and NOT_FOUND from get", async () => {
    const key = "tenants/ten_rt/documents/doc_never_written";
    expect(await harness.store.stat(key)).toBeNull();
    expect((await appErrorOf(harness.store.get(key))).code).toBe("NOT_FOUND");
  });

  it("deletes a key, and deleting it again is not an error", async () => {
    const key = "tenants/ten_del/documents/doc_1";
    const neighbour = "tenants/ten_del/documents/doc_10";
    await harness.store.put(key, Buffer.from("to delete"));
    await harness.store.put(neighbour, Buffer.from("to keep"));
    await harness.store.delete(key);
    await harness.store.delete(key);
    expect(await harness.store.stat(key)).toBeNull();
    expect(Buffer.from(await harness.store.get(neighbour)).toString()).toBe("to keep");
  });

  it("deletePrefix deletes all of a tenant's objects, over more than one page, and nothing else", async () => {
    // Two and a half of the S3 harness's pages (S3_PAGE_SIZE keys each).
    const tenantKeys = Array.from(
      { length: S3_PAGE_SIZE * 2 + S3_PAGE_SIZE / 2 },
      (_, index) => `tenants/ten_gone/documents/doc_${index}`,
    );
    tenantKeys.push("tenants/ten_gone/exports/deep/file.json");
    const survivors = ["tenants/ten_gone2/documents/doc_0", "tenants/ten_kept/documents/doc_0"];
    await inBatches([...tenantKeys, ...survivors], 25, (key) => harness.store.put(key, Buffer.from(key)));

    expect(await harness.store.deletePrefix("tenants/ten_gone/")).toBe(tenantKeys.length);

    const stored = await harness.listStored();
    expect(stored.filter((key) => key.startsWith("tenants/ten_gone/"))).toEqual([]);
    for (const key of survivors) expect(Buffer.from(await harness.store.get(key)).toString()).toBe(key);
    expect(await harness.store.deletePrefix("tenants/ten_gone/")).toBe(0);
    expect(await harness.store.deletePrefix("tenants/ten_never_existed/")).toBe(0);
  });

  it("refuses a body over maxBytes with PAYLOAD_TOO_LARGE and keeps nothing of it", async () => {
    const key = "tenants/ten_big/documents/doc_streamed";
    const error = await appErrorOf(
      harness.store.put(key, webStreamOf(randomBytes(MB)), { maxBytes: MB - 1 }),
    );
    expect(error.code).toBe("PAYLOAD_TOO_LARGE");

    const inMemory = "tenants/ten_big/documents/doc_in_memory";
    const refused = await appErrorOf(harness.store.put(inMemory, randomBytes(1_001), { maxBytes: 1_000 }));
    expect(refused.code).toBe("PAYLOAD_TOO_LARGE");

    // Refused after a multipart part was already sent to S3.
    const multipart = "tenants/ten_big/documents/doc_multipart";
    const late = await appErrorOf(
      harness.store.put(multipart, nodeStreamOf(randomBytes(12 * MiB)), { maxBytes: 10 * MiB }),
    );
    expect(late.code).toBe("PAYLOAD_TOO_LARGE");

    for (const refusedKey of [key, inMemory, multipart])
      expect(await harness.store.stat(refusedKey)).toBeNull();
    expect((await harness.listStored()).filter((stored) => stored.startsWith("tenants/ten_big/"))).toEqual(
      [],
    );
  });

  it("keeps the previous object when a replacement is refused", async () => {
    const key = "tenants/ten_big/documents/doc_previous";
    await harness.store.put(key, Buffer.from("the good version"));
    await appErrorOf(harness.store.put(key, webStreamOf(randomBytes(2 * MB)), { maxBytes: MB }));
    expect(Buffer.from(await harness.store.get(key)).toString()).toBe("the good version");
    expect((await harness.listStored()).filter((stored) => stored.startsWith("tenants/ten_big/"))).toEqual([
      key,
    ]);
  });

  const badKeys = [
    "",
    "/etc/passwd",
    "../outside",
    "tenants/../../outside",
    "tenants/ten_1/../ten_2/doc",
    "tenants/./ten_1",
    "tenants//ten_1",
    "tenants/ten_1/",
    ".hidden",
    "tenants/.tmp-1234",
    "-rf",
    "tenants\\ten_1",
    "tenants/ten 1",
    "tenants/tén",
    "tenants/ten_1\0",
    `tenants/${"a".repeat(1_100)}`,
  ];

  it.each(badKeys)("refuses the key %j on every operation with BAD_REQUEST", async (key) => {
    const attempts = [
      harness.store.put(key, Buffer.from("x")),
      harness.store.get(key),
      harness.store.stat(key),
      harness.store.delete(key),
      harness.store.createUploadUrl(key, { maxBytes: 10, expiresInSeconds: 60 }),
    ];
    for (const attempt of attempts) expect((await appErrorOf(attempt)).code).toBe("BAD_REQUEST");
  });

  it.each(["", "/", "tenants", "tenants/ten_1", "../", "tenants/../", "/tenants/ten_1/", "tenants//"])(
    "refuses to delete the prefix %j",
    async (prefix) => {
      expect((await appErrorOf(harness.store.deletePrefix(prefix))).code).toBe("BAD_REQUEST");
    },
  );

  it("gives an upload URL a client can PUT a file to, more than once until it expires", async () => {
    const key = "tenants/ten_up/documents/doc_uploaded.pdf";
    const before = Date.now();
    const upload = await harness.store.createUploadUrl(key, {
      contentType: "application/pdf",
      maxBytes: 5 * MB,
      expiresInSeconds: 900,
    });
    expect(upload.method).toBe("PUT");
    expect(upload.headers).toEqual({ "content-type": "application/pdf" });
    const expiresAt = Date.parse(upload.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);

    const bytes = randomBytes(2 * MB);
    const response = await fetch(upload.url, { method: upload.method, headers: upload.headers, body: bytes });
    expect(response.status, await response.text()).toBeLessThan(300);
    expect(sha256(await harness.store.get(key))).toBe(sha256(bytes));
    expect(await harness.store.stat(key)).toEqual({ sizeBytes: 2 * MB });

    const again = Buffer.from("%PDF-1.7 replaced");
    const second = await fetch(upload.url, { method: "PUT", headers: upload.headers, body: again });
    expect(second.status).toBeLessThan(300);
    expect(Buffer.from(await harness.store.get(key)).equals(again)).toBe(true);
  });

  it("refuses upload URLs without a positive size limit or with a lifetime over seven days", async () => {
    const key = "tenants/ten_up/documents/doc_x";
    for (const opts of [
      { maxBytes: 0, expiresInSeconds: 60 },
      { maxBytes: 1.5, expiresInSeconds: 60 },
      { maxBytes: 10, expiresInSeconds: 0 },
      { maxBytes: 10, expiresInSeconds: 7 * 24 * 3600 + 1 },
    ]) {
      expect((await appErrorOf(harness.store.createUploadUrl(key, opts))).code).toBe("BAD_REQUEST");
    }
  });
});
