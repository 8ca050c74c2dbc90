import { randomUUID } from "node:crypto";
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
} from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { AppError } from "@vdb/http/errors";
import { isPidAlive } from "@vdb/http/processes";
import { processStartTicks } from "../lib/process-identity";
import {
  assertValidKey,
  assertValidPrefix,
  assertValidUploadUrlOptions,
  type BlobBody,
  type BlobStore,
  limitedChunks,
  type PutOptions,
  type UploadUrl,
  type UploadUrlOptions,
} from "./blob-store";
import { UPLOAD_ROUTE_PREFIX } from "./upload-routes";
import { assertStrongUploadSecret, signUploadToken } from "./upload-token";

export interface DiskBlobStoreOptions {
  /** Directory holding one file per key (created on first write). */
  root: string;
  /** The control plane's public URL: upload URLs point at its `/api/v1/uploads/<token>` route. */
  publicUrl: string;
  /** HMAC key of upload tokens (at least 32 characters); the same on every control plane. */
  uploadSecret: string;
}

// Temp files and the trash of deletePrefix start with "." so no valid key can name them.
const TEMP_PREFIX = ".tmp-";
const TRASH_PREFIX = ".trash-";
/**
 * Temp files and trash folders are named for the process writing them (pid and start time), so a
 * start-up can tell the leftovers of a killed upload or delete from the live work of another
 * process on the same folder.
 */
const TEMP_OWNER = `${process.pid}-${processStartTicks(process.pid) ?? 0}`;
const OWNED_TEMP = /^\.(?:tmp|trash)-(\d+)-(\d+)-/;

/** Whether the process that named a temp file or trash folder `name` still runs (unknown owners do not). */
function isTempFileOwned(name: string): boolean {
  const owner = OWNED_TEMP.exec(name);
  if (!owner) return false;
  const pid = Number(owner[1]);
  if (!isPidAlive(pid)) return false;
  // Same pid, another start time: the pid was reused after the writer died.
  return owner[2] === "0" || processStartTicks(pid) === owner[2];
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Blobs as files under `root`, the key being the relative path. Writes go to a temp file beside
 * the target and are renamed over it, so readers see the old file or the whole new one. The
 * content type is not kept (the documents table has it).
 */
export class DiskBlobStore implements BlobStore {
  readonly kind = "disk" as const;
  readonly root: string;
  private readonly publicUrl: string;
  private readonly uploadSecret: string;

  constructor(opts: DiskBlobStoreOptions) {
    assertStrongUploadSecret(opts.uploadSecret);
    this.root = path.resolve(opts.root);
    this.publicUrl = opts.publicUrl.replace(/\/+$/, "");
    this.uploadSecret = opts.uploadSecret;
  }

  private fileOf(key: string): string {
    assertValidKey(key);
    const file = path.join(this.root, ...key.split("/"));
    // Unreachable after assertValidKey; kept so a future change to the key rules cannot open a traversal.
    if (!file.startsWith(this.root + path.sep)) {
      throw new AppError({ code: "BAD_REQUEST", message: `Invalid blob key ${JSON.stringify(key)}` });
    }
    return file;
  }

  async put(key: string, body: BlobBody, opts: PutOptions = {}): Promise<{ sizeBytes: number }> {
    const file = this.fileOf(key);
    const dir = path.dirname(file);
    const temp = path.join(dir, `${TEMP_PREFIX}${TEMP_OWNER}-${randomUUID()}`);
    let sizeBytes = 0;
    let handle: FileHandle | null = null;
    try {
      // Owner-only, whatever the umask: uploaded documents are tenants' data.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // Opened before streaming: createWriteStream(path) opens lazily, and a body refused on its
      // first chunk could then have the file created after the clean-up below removed it.
      handle = await open(temp, "w", 0o600);
      await pipeline(
        async function* () {
          for await (const chunk of limitedChunks(body, opts.maxBytes)) {
            sizeBytes += chunk.byteLength;
            yield chunk;
          }
        },
        handle.createWriteStream({ flush: true }),
      );
      await rename(temp, file);
    } catch (error) {
      await handle?.close().catch(() => {});
      await rm(temp, { force: true });
      const code = errorCode(error);
      // S3 has no folders, disk does: `a/b` and `a/b/c` cannot both be files.
      if (code === "ENOTDIR" || code === "EEXIST" || code === "EISDIR" || code === "ENOTEMPTY") {
        throw new AppError({
          code: "CONFLICT",
          message: `Blob key ${key} collides with another key's folder`,
          cause: error,
        });
      }
      throw error;
    }
    return { sizeBytes };
  }

  /**
   * Removes the temp files that no upload owns any more (their process was killed mid-write),
   * anywhere under the root, and the trash folders of deletes killed half-way; returns how many.
   * Run at start-up.
   */
  async removeOrphanedTempFiles(): Promise<number> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (error) {
      if (errorCode(error) === "ENOENT") return 0;
      throw error;
    }
    let removed = 0;
    for (const entry of entries) {
      const isLeftover =
        (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) ||
        (entry.isDirectory() && entry.name.startsWith(TRASH_PREFIX) && entry.parentPath === this.root);
      if (!isLeftover || isTempFileOwned(entry.name)) continue;
      await rm(path.join(entry.parentPath, entry.name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  async get(key: string): Promise<Uint8Array> {
    const file = this.fileOf(key);
    try {
      return await readFile(file);
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") {
        throw new AppError({ code: "NOT_FOUND", message: `No blob ${key}` });
      }
      throw error;
    }
  }

  async stat(key: string): Promise<{ sizeBytes: number } | null> {
    const file = this.fileOf(key);
    try {
      const info = await stat(file);
      return info.isFile() ? { sizeBytes: info.size } : null;
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.fileOf(key);
    try {
      await unlink(file);
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return;
      // A folder of other keys is not an object with this key.
      if ((code === "EISDIR" || code === "EPERM") && (await lstat(file)).isDirectory()) return;
      throw error;
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertValidPrefix(prefix);
    const dir = path.join(this.root, ...prefix.split("/").filter(Boolean));
    // Moving the folder aside first makes the deletion atomic: a put racing with it either lands
    // before (and is deleted) or after (and survives), never half-way.
    const trash = path.join(this.root, `${TRASH_PREFIX}${TEMP_OWNER}-${randomUUID()}`);
    try {
      await rename(dir, trash);
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return 0;
      throw error;
    }
    const entries = await readdir(trash, { recursive: true, withFileTypes: true });
    const deleted = entries.filter((entry) => entry.isFile() && !entry.name.startsWith(".")).length;
    await rm(trash, { recursive: true, force: true });
    return deleted;
  }

  /**
   * A URL on the control plane itself (`<publicUrl>/api/v1/uploads/<token>`, served by
   * `uploadRoutes`) whose signed token carries the key, size limit, content type and expiry.
   * It may be used more than once until it expires; each PUT replaces the object.
   */
  async createUploadUrl(key: string, opts: UploadUrlOptions): Promise<UploadUrl> {
    assertValidKey(key);
    assertValidUploadUrlOptions(opts);
    const exp = Math.floor(Date.now() / 1000) + opts.expiresInSeconds;
    const token = signUploadToken(this.uploadSecret, {
      key,
      maxBytes: opts.maxBytes,
      exp,
      ...(opts.contentType !== undefined ? { contentType: opts.contentType } : {}),
    });
    return {
      url: `${this.publicUrl}${UPLOAD_ROUTE_PREFIX}${token}`,
      method: "PUT",
      headers: opts.contentType !== undefined ? { "content-type": opts.contentType } : {},
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }
}
