import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { AppError } from "@vdb/http/errors";
import {
  assertValidKey,
  assertValidPrefix,
  assertValidUploadUrlOptions,
  type BlobBody,
  type BlobStore,
  limitedChunks,
  type PutOptions,
  payloadTooLarge,
  type UploadUrl,
  type UploadUrlOptions,
} from "./blob-store";

export interface S3BlobStoreOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server (s3rver, MinIO, R2…); AWS when unset. */
  endpoint?: string;
  /** `<endpoint>/<bucket>/<key>` URLs instead of `<bucket>.<endpoint>`: most S3-compatible servers need it. */
  forcePathStyle?: boolean;
  /** Static keys; when unset the SDK's default chain is used (env, profile, ECS task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * A streamed body is buffered up to this size: a smaller body is one PutObject, a bigger one a
   * multipart upload of parts this size (S3's minimum part is 5 MiB). Memory per put is one part.
   */
  partSizeBytes?: number;
  /** Keys per ListObjectsV2 and DeleteObjects page: 1,000 (their maximum); less only to test paging. */
  pageSize?: number;
}

const MIN_PART_BYTES = 5 * 1024 * 1024;
const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
/** DeleteObjects' and ListObjectsV2's page limit. */
const BATCH = 1_000;

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  // HeadObject has no body to name the error, so the SDK calls its 404 "NotFound".
  return name === "NoSuchKey" || name === "NotFound";
}

/**
 * Blobs in an S3 bucket. Streamed puts never leave a partial object: a small body is sent once
 * complete, a big one as a multipart upload that is only visible after its completion and is
 * aborted on any failure (a bucket lifecycle rule "AbortIncompleteMultipartUpload" reclaims an
 * upload whose abort itself failed).
 */
export class S3BlobStore implements BlobStore {
  readonly kind = "s3" as const;
  readonly client: S3Client;
  readonly bucket: string;
  private readonly partSizeBytes: number;
  private readonly pageSize: number;

  constructor(opts: S3BlobStoreOptions) {
    this.bucket = opts.bucket;
    this.partSizeBytes = Math.max(MIN_PART_BYTES, opts.partSizeBytes ?? DEFAULT_PART_BYTES);
    this.pageSize = Math.min(BATCH, Math.max(1, opts.pageSize ?? BATCH));
    this.client = new S3Client({
      region: opts.region,
      ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
      ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
      forcePathStyle: opts.forcePathStyle ?? false,
      // The SDK's default checksums break two things: streamed bodies (aws-chunked trailers) are
      // stored corrupted, silently, by S3-compatible servers such as s3rver, and presigned PUT
      // URLs carry the CRC32 of an empty body, so S3 refuses every real upload to them.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async put(key: string, body: BlobBody, opts: PutOptions = {}): Promise<{ sizeBytes: number }> {
    assertValidKey(key);
    const target = {
      Bucket: this.bucket,
      Key: key,
      ...(opts.contentType !== undefined ? { ContentType: opts.contentType } : {}),
    };
    if (body instanceof Uint8Array) {
      if (opts.maxBytes !== undefined && body.byteLength > opts.maxBytes)
        throw payloadTooLarge(opts.maxBytes);
      await this.client.send(new PutObjectCommand({ ...target, Body: body, ContentLength: body.byteLength }));
      return { sizeBytes: body.byteLength };
    }

    // S3 needs each request's length up front, so the stream is cut into buffered parts.
    let buffered: Uint8Array[] = [];
    let bufferedBytes = 0;
    let sizeBytes = 0;
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];
    const uploadPart = async (id: string, bytes: Buffer) => {
      const PartNumber = parts.length + 1;
      const { ETag } = await this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: id,
          PartNumber,
          Body: bytes,
          ContentLength: bytes.byteLength,
        }),
      );
      parts.push({ ETag, PartNumber });
    };
    try {
      for await (const chunk of limitedChunks(body, opts.maxBytes)) {
        buffered.push(chunk);
        bufferedBytes += chunk.byteLength;
        sizeBytes += chunk.byteLength;
        if (bufferedBytes < this.partSizeBytes) continue;
        if (uploadId === undefined) {
          const created = await this.client.send(new CreateMultipartUploadCommand(target));
          if (!created.UploadId) throw new Error("CreateMultipartUpload returned no UploadId");
          uploadId = created.UploadId;
        }
        const part = Buffer.concat(buffered);
        buffered = [];
        bufferedBytes = 0;
        await uploadPart(uploadId, part);
      }
      const rest = Buffer.concat(buffered);
      if (uploadId === undefined) {
        await this.client.send(
          new PutObjectCommand({ ...target, Body: rest, ContentLength: rest.byteLength }),
        );
        return { sizeBytes };
      }
      if (rest.byteLength > 0) await uploadPart(uploadId, rest);
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      return { sizeBytes };
    } catch (error) {
      if (uploadId !== undefined) {
        const abort = new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId });
        // Best effort: the original error is the one worth reporting (s3rver has no abort at all).
        await this.client.send(abort).catch(() => undefined);
      }
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    assertValidKey(key);
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!object.Body) throw new Error(`GetObject ${key} returned no body`);
      return await object.Body.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) throw new AppError({ code: "NOT_FOUND", message: `No blob ${key}` });
      throw error;
    }
  }

  async stat(key: string): Promise<{ sizeBytes: number } | null> {
    assertValidKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { sizeBytes: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix);
    let deleted = 0;
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: this.pageSize,
          ...(continuationToken !== undefined ? { ContinuationToken: continuationToken } : {}),
        }),
      );
      const objects = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
      if (objects.length > 0) {
        const result = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0) {
          throw new Error(
            `Could not delete ${failed.length} objects under ${prefix}: ${failed[0]?.Key} ${failed[0]?.Code} ${failed[0]?.Message}`,
          );
        }
        deleted += objects.length;
      }
      // The token marks the last key listed, so deleting the page does not shift the next one.
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    return deleted;
  }

  /**
   * A presigned PUT straight to the bucket, signed for `contentType` (the client must send that
   * header). S3 cannot enforce `maxBytes` on a presigned PUT: the ingest step compares `stat()`
   * with the plan's limit before it reads the object, and deletes it when it is too big.
   */
  async createUploadUrl(key: string, opts: UploadUrlOptions): Promise<UploadUrl> {
    assertValidKey(key);
    assertValidUploadUrlOptions(opts);
    // Signed to the second, so expiresAt is exactly when S3 starts refusing the URL.
    const signingDate = new Date(Math.floor(Date.now() / 1000) * 1000);
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ...(opts.contentType !== undefined ? { ContentType: opts.contentType } : {}),
    });
    const url = await getSignedUrl(this.client, command, {
      expiresIn: opts.expiresInSeconds,
      signingDate,
      // Without this the presigner signs only `host` and any content type would be accepted.
      signableHeaders: new Set(["content-type"]),
    });
    return {
      url,
      method: "PUT",
      headers: opts.contentType !== undefined ? { "content-type": opts.contentType } : {},
      expiresAt: new Date(signingDate.getTime() + opts.expiresInSeconds * 1000).toISOString(),
    };
  }
}
