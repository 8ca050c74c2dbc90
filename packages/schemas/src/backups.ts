import { z } from "zod";
import { BackupId, JobId, TenantId } from "./ids";
import { PageInput } from "./pagination";

/**
 * Backups of a tenant: every collection's records (ids, embeddings, documents, metadata) and the
 * control plane's document and chunk rows, as one snapshot in the blob store. `running` until
 * its manifest is written; an interrupted one is never `completed`.
 */
export const BackupStatus = z.enum(["running", "completed", "failed"]);
export type BackupStatus = z.infer<typeof BackupStatus>;

export const BackupCounts = z.object({
  collections: z.number().int(),
  records: z.number().int(),
  documents: z.number().int(),
  chunks: z.number().int(),
});
export type BackupCounts = z.infer<typeof BackupCounts>;

export const Backup = z.object({
  id: BackupId,
  tenantId: TenantId,
  /**
   * `backup`: taken on request; `scheduled`: taken by the plan's schedule (and pruned by it);
   * `import`: made from an uploaded export file rather than from the tenant's data.
   */
  source: z.enum(["backup", "scheduled", "import"]),
  status: BackupStatus,
  /** Bytes in the blob store, once completed. */
  sizeBytes: z.number().int().nullable(),
  counts: BackupCounts,
  /** Records read so far while running. */
  progress: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
  failureReason: z.string().nullable(),
  createdAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
});
export type Backup = z.infer<typeof Backup>;

export const CreateBackupInput = z.object({ tenantId: TenantId });
export type CreateBackupInput = z.infer<typeof CreateBackupInput>;

export const BackupRef = z.object({ tenantId: TenantId, backupId: BackupId });
export type BackupRef = z.infer<typeof BackupRef>;

export const ListBackupsInput = PageInput.extend({ tenantId: TenantId });
export type ListBackupsInput = z.input<typeof ListBackupsInput>;

/** Restore a backup of `tenantId` into it (replacing its data) or into `targetTenantId`. */
export const RestoreBackupInput = BackupRef.extend({ targetTenantId: TenantId.optional() });
export type RestoreBackupInput = z.input<typeof RestoreBackupInput>;

export const Restore = z.object({
  id: JobId,
  backupId: BackupId,
  sourceTenantId: TenantId,
  targetTenantId: TenantId,
  status: z.enum(["queued", "running", "succeeded", "failed", "dead"]),
  /** Records written so far. */
  progress: z.object({ done: z.number().int(), total: z.number().int() }),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
});
export type Restore = z.infer<typeof Restore>;

/** A restore is read by the tenant it writes into. */
export const RestoreRef = z.object({ tenantId: TenantId, restoreId: JobId });
export type RestoreRef = z.infer<typeof RestoreRef>;

// ---- The portable export format (JSONL): one header line, then one line per item. ----

export const EXPORT_FORMAT = "vdb-export";
export const EXPORT_VERSION = 1;

const JsonMetadata = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

export const ExportCollection = z.object({
  name: z.string().min(1).max(63),
  /** Chroma's collection metadata (VDB records the embedding model there). */
  metadata: JsonMetadata.nullable(),
  /** Chroma's collection configuration (e.g. `{ hnsw: { space: "cosine" } }`). */
  configuration: z.record(z.string(), z.unknown()).nullable(),
  count: z.number().int().min(0),
});
export type ExportCollection = z.infer<typeof ExportCollection>;

/** Line 1 of an export. */
export const ExportHeader = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  tenantId: TenantId,
  backupId: BackupId,
  createdAt: z.iso.datetime(),
  collections: z.array(ExportCollection).max(10_000),
  counts: BackupCounts,
});
export type ExportHeader = z.infer<typeof ExportHeader>;

/** One Chroma record: what `collection.upsert` takes, one at a time. */
export const ExportRecord = z.object({
  type: z.literal("record"),
  collection: z.string().min(1).max(63),
  id: z.string().min(1).max(1_000),
  embedding: z.array(z.number()).min(1).max(65_536),
  document: z.string().nullable(),
  metadata: JsonMetadata.nullable(),
});
export type ExportRecord = z.infer<typeof ExportRecord>;

/** A control-plane document row (its chunks follow as `chunk` lines). */
export const ExportDocument = z.object({
  type: z.literal("document"),
  id: z.string().min(1).max(100),
  collection: z.string(),
  title: z.string(),
  filename: z.string().nullable(),
  contentType: z.string().nullable(),
  sizeBytes: z.number().int().nullable(),
  source: z.enum(["upload", "text", "json"]),
  status: z.enum(["uploading", "queued", "processing", "ready", "failed"]),
  failureReason: z.string().nullable(),
  chunkCount: z.number().int(),
  /** Chunks the embedding model had to cut; absent in exports made before it was recorded. */
  truncatedChunks: z.number().int().min(0).default(0),
  chunkSize: z.number().int(),
  chunkOverlap: z.number().int(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.iso.datetime(),
});
export type ExportDocument = z.infer<typeof ExportDocument>;

export const ExportChunk = z.object({
  type: z.literal("chunk"),
  id: z.string().min(1).max(200),
  documentId: z.string().min(1).max(100),
  index: z.number().int().min(0),
  text: z.string(),
  tokenCount: z.number().int(),
  page: z.number().int().nullable(),
  heading: z.string().nullable(),
});
export type ExportChunk = z.infer<typeof ExportChunk>;

export const ExportLine = z.discriminatedUnion("type", [ExportRecord, ExportDocument, ExportChunk]);
export type ExportLine = z.infer<typeof ExportLine>;
