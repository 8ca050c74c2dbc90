/** Real blob stores for tests: files in a temp dir behind a real upload server, or an s3rver bucket. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { serveApp } from "@vdb/http/serve";
import { freePort } from "../testing/process";
import type { BlobStore } from "./blob-store";
import { DiskBlobStore } from "./disk-blob-store";
import { S3BlobStore } from "./s3-blob-store";
import { uploadRoutes } from "./upload-routes";

export type BlobStoreKind = "disk" | "s3";

export interface BlobStoreHarness {
  store: BlobStore;
  /** Every key stored: every file under the disk root (temp files included), every object in the bucket. */
  listStored(): Promise<string[]>;
  /** The s3rver's URL, for a control plane to use the same bucket (S3_ENDPOINT); unset for disk. */
  endpoint?: string;
  /** The s3rver's process (SIGSTOP makes a store that never answers); unset for disk. */
  pid?: number;
  close(): Promise<void>;
}

/** The disk store's upload secret and URL base, for tests that forge or expire tokens. */
export interface DiskHarness extends BlobStoreHarness {
  store: DiskBlobStore;
  secret: string;
  baseUrl: string;
}

export const TEST_BUCKET = "vdb-test";

export async function startDiskHarness(): Promise<DiskHarness> {
  const dir = await mkdtemp(path.join(tmpdir(), "vdb-blobs-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const secret = randomBytes(32).toString("base64url");
  const store = new DiskBlobStore({
    root: path.join(dir, "blobs"),
    publicUrl: baseUrl,
    uploadSecret: secret,
  });
  const app = uploadRoutes(store, secret);
  const server = await new Promise<Server>((resolve) => {
    const started = serveApp({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => resolve(started));
  });
  return {
    store,
    secret,
    baseUrl,
    async listStored() {
      const entries = await readdir(store.root, { recursive: true, withFileTypes: true }).catch(() => []);
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(store.root, path.join(entry.parentPath, entry.name)));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// s3rver 3.7.1 encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 only
// has in its legacy provider: in-process, every truncated listing (> 1,000 keys) fails with a
// 500. So it runs in its own Node with that provider, and exits when its stdin (this process) ends.
const S3RVER_SCRIPT = `
const S3rver = require("s3rver");
const [directory, bucket] = process.argv.slice(1);
new S3rver({ port: 0, address: "127.0.0.1", directory, silent: true, configureBuckets: [{ name: bucket }] })
  .run()
  .then(({ port }) => process.stdout.write(JSON.stringify({ port }) + "\\n"));
process.stdin.on("end", () => process.exit(0)).resume();
`;

async function startS3rver(directory: string) {
  const child = spawn(
    process.execPath,
    ["--openssl-legacy-provider", "-e", S3RVER_SCRIPT, directory, TEST_BUCKET],
    {
      cwd: PACKAGE_DIR,
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("s3rver did not start within 15 s")), 15_000);
    child.once("exit", (code) => reject(new Error(`s3rver exited with code ${code}`)));
    child.stdout.once("data", (data: Buffer) => {
      clearTimeout(timer);
      resolve((JSON.parse(data.toString()) as { port: number }).port);
    });
  });
  return {
    port,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin.end();
      }),
  };
}

/** Keys per listing page of the S3 harness's store (S3's own is 1,000). */
export const S3_PAGE_SIZE = 100;

export async function startS3Harness(): Promise<BlobStoreHarness> {
  const dir = await mkdtemp(path.join(tmpdir(), "vdb-s3rver-"));
  const s3rver = await startS3rver(dir);
  const port = s3rver.port;
  const store = new S3BlobStore({
    bucket: TEST_BUCKET,
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}`,
    ...(s3rver.pid !== undefined ? { pid: s3rver.pid } : {}),
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    // Pages of S3_PAGE_SIZE keys: a test of paging needs a few hundred objects, not thousands.
    pageSize: S3_PAGE_SIZE,
  });
  return {
    store,
    endpoint: `http://127.0.0.1:${port}`,
    ...(s3rver.pid !== undefined ? { pid: s3rver.pid } : {}),
    async listStored() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.client.send(
          new ListObjectsV2Command({ Bucket: TEST_BUCKET, ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async close() {
      store.client.destroy();
      await s3rver.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function startBlobStoreHarness(kind: BlobStoreKind): Promise<BlobStoreHarness> {
  return kind === "disk" ? startDiskHarness() : startS3Harness();
}
