import path from "node:path";
import type { BlobStore } from "./blob-store";
import { DiskBlobStore } from "./disk-blob-store";
import { S3BlobStore } from "./s3-blob-store";

export interface CreateBlobStoreOptions {
  dataDir: string;
  /** The control plane's public URL, which the disk store's upload URLs point at. */
  publicUrl: string;
  /** HMAC key of the disk store's upload tokens (at least 32 characters). */
  uploadSecret: string;
  s3?: {
    /** S3 is used when this is set, the disk otherwise. */
    bucket?: string | undefined;
    region?: string | undefined;
    endpoint?: string | undefined;
    forcePathStyle?: boolean | undefined;
    /** Both or neither; neither means the SDK's default credential chain. */
    accessKeyId?: string | undefined;
    secretAccessKey?: string | undefined;
  };
}

/**
 * S3 when `s3.bucket` is given, else files under `<dataDir>/blobs`.
 *
 * @example
 * const blobs = createBlobStore({
 *   dataDir: config.DATA_DIR,
 *   publicUrl: config.publicUrl,
 *   uploadSecret: config.UPLOAD_URL_SECRET,
 *   s3: { bucket: config.S3_BUCKET, region: config.S3_REGION, endpoint: config.S3_ENDPOINT },
 * });
 */
export function createBlobStore(opts: CreateBlobStoreOptions): BlobStore {
  const s3 = opts.s3;
  if (s3?.bucket) {
    if (Boolean(s3.accessKeyId) !== Boolean(s3.secretAccessKey)) {
      throw new Error("S3 credentials need both an access key id and a secret access key, or neither");
    }
    return new S3BlobStore({
      bucket: s3.bucket,
      region: s3.region ?? "us-east-1",
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      ...(s3.forcePathStyle !== undefined ? { forcePathStyle: s3.forcePathStyle } : {}),
      ...(s3.accessKeyId && s3.secretAccessKey
        ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
        : {}),
    });
  }
  return new DiskBlobStore({
    root: path.join(opts.dataDir, "blobs"),
    publicUrl: opts.publicUrl,
    uploadSecret: opts.uploadSecret,
  });
}
