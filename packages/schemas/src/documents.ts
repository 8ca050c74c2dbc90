import { z } from "zod";
import { DocumentId, TenantId } from "./ids";
import { CollectionName, DEFAULT_COLLECTION, Metadata } from "./instances";
import { PageInput } from "./pagination";

/**
 * Documents: files or text a tenant ingests. The control plane keeps the document and its
 * chunks; the chunks, embedded, live in the tenant's instance under ids `<document id>:<index>`.
 */
export const DocumentStatus = z.enum(["uploading", "queued", "processing", "ready", "failed"]);
export type DocumentStatus = z.infer<typeof DocumentStatus>;

export const ChunkSettings = z
  .object({
    /** Tokens per chunk. */
    chunkSize: z.number().int().min(50).max(2_000).default(400),
    /** Tokens shared by consecutive chunks. */
    chunkOverlap: z.number().int().min(0).max(500).default(50),
  })
  .refine((settings) => settings.chunkOverlap < settings.chunkSize, {
    message: "chunkOverlap must be smaller than chunkSize",
    path: ["chunkOverlap"],
  });

export const Document = z.object({
  id: DocumentId,
  tenantId: TenantId,
  collection: z.string(),
  title: z.string(),
  filename: z.string().nullable(),
  contentType: z.string().nullable(),
  sizeBytes: z.number().int().nullable(),
  source: z.enum(["upload", "text", "json"]),
  status: DocumentStatus,
  /** Why ingestion failed, in words a person can act on. */
  failureReason: z.string().nullable(),
  chunkCount: z.number().int(),
  /**
   * Chunks the embedding model read only the start of (longer than its input window): their
   * tail is not in their vector, though keyword search still finds it. Chunks are cut to fit the
   * window of a model whose tokenizer the control plane knows (`use-lite`), so this stays 0 for it.
   */
  truncatedChunks: z.number().int(),
  chunkSize: z.number().int(),
  chunkOverlap: z.number().int(),
  metadata: z.record(z.string(), z.unknown()),
  /** Ingestion progress while queued or processing. */
  progress: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Document = z.infer<typeof Document>;

export const Chunk = z.object({
  id: z.string(),
  index: z.number().int(),
  text: z.string(),
  tokenCount: z.number().int(),
  page: z.number().int().nullable(),
  heading: z.string().nullable(),
});
export type Chunk = z.infer<typeof Chunk>;

export const DocumentWithChunks = Document.extend({ chunks: z.array(Chunk) });
export type DocumentWithChunks = z.infer<typeof DocumentWithChunks>;

const Title = z.string().trim().min(1).max(300);
const Filename = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^/\\\0]+$/, { message: "must be a file name, not a path" });

/** Ad-hoc ingestion (`POST /api/v1/docs`): text or a JSON value, no file. */
export const TextDocumentFields = z.strictObject({
  tenantId: TenantId,
  collection: CollectionName.default(DEFAULT_COLLECTION),
  title: Title,
  text: z.string().min(1).max(5_000_000).optional(),
  json: z.unknown().optional(),
  metadata: Metadata.default({}),
  chunkSize: z.number().int().min(50).max(2_000).default(400),
  chunkOverlap: z.number().int().min(0).max(500).default(50),
});
export const CreateTextDocumentInput = TextDocumentFields.refine(
  (input) => (input.text === undefined) !== (input.json === undefined),
  {
    message: "give exactly one of text or json",
    path: ["text"],
  },
).refine((input) => input.chunkOverlap < input.chunkSize, {
  message: "chunkOverlap must be smaller than chunkSize",
  path: ["chunkOverlap"],
});
export type CreateTextDocumentInput = z.input<typeof CreateTextDocumentInput>;

/** Step 1 of an upload (seed 003): a URL to PUT the file to, valid for a short while. */
export const UploadFields = z.strictObject({
  tenantId: TenantId,
  filename: Filename,
  contentType: z.string().max(200).optional(),
  /** The file's size, checked against the plan before any byte is sent. */
  sizeBytes: z.number().int().min(1),
  collection: CollectionName.default(DEFAULT_COLLECTION),
  title: Title.optional(),
  metadata: Metadata.default({}),
  chunkSize: z.number().int().min(50).max(2_000).default(400),
  chunkOverlap: z.number().int().min(0).max(500).default(50),
});
export const CreateUploadInput = UploadFields.refine((input) => input.chunkOverlap < input.chunkSize, {
  message: "chunkOverlap must be smaller than chunkSize",
  path: ["chunkOverlap"],
});
export type CreateUploadInput = z.input<typeof CreateUploadInput>;

/** A multipart upload's settings, shared by all its files (each file names and sizes itself). */
export const FileUploadSettings = UploadFields.pick({
  tenantId: true,
  collection: true,
  chunkSize: true,
  chunkOverlap: true,
}).refine((input) => input.chunkOverlap < input.chunkSize, {
  message: "chunkOverlap must be smaller than chunkSize",
  path: ["chunkOverlap"],
});

export const UploadTarget = z.object({
  url: z.string(),
  method: z.literal("PUT"),
  headers: z.record(z.string(), z.string()),
  expiresAt: z.iso.datetime(),
});

export const CreatedUpload = z.object({ document: Document, upload: UploadTarget });
export type CreatedUpload = z.infer<typeof CreatedUpload>;

export const DocumentRef = z.strictObject({ tenantId: TenantId, documentId: DocumentId });
export type DocumentRef = z.infer<typeof DocumentRef>;

/** Chunks a page of `documents.get` holds unless it says: a few hundred kB of text at most. */
export const DOCUMENT_CHUNKS_PAGE_DEFAULT = 100;
export const DOCUMENT_CHUNKS_PAGE_MAX = 500;

/**
 * A document and one page of its chunks, in index order (tRPC `documents.get`). `limit: 0` reads
 * the document and its progress only (what a status poll needs); `cursor` is the previous page's
 * `nextCursor`.
 */
export const GetDocumentInput = DocumentRef.extend({
  limit: z.coerce.number().int().min(0).max(DOCUMENT_CHUNKS_PAGE_MAX).default(DOCUMENT_CHUNKS_PAGE_DEFAULT),
  cursor: z.string().min(1).max(200).optional(),
});
export type GetDocumentInput = z.input<typeof GetDocumentInput>;

/** `nextCursor` is null when no chunk follows this page's last. */
export const DocumentPage = Document.extend({ chunks: z.array(Chunk), nextCursor: z.string().nullable() });
export type DocumentPage = z.infer<typeof DocumentPage>;

export const ListDocumentsInput = PageInput.extend({
  tenantId: TenantId,
  status: DocumentStatus.optional(),
  collection: CollectionName.optional(),
});
export type ListDocumentsInput = z.infer<typeof ListDocumentsInput>;

/** A tenant's ingestion queue: how deep it is, how fast it drains, and whether it waits. */
export const IngestionStatus = z.object({
  tenantId: TenantId,
  /** Documents waiting for a worker. */
  queued: z.number().int(),
  /** Documents being ingested now. */
  processing: z.number().int(),
  /** queued + processing: new ingestion is refused (429, Retry-After) once it reaches `maxDepth`. */
  depth: z.number().int(),
  maxDepth: z.number().int(),
  /** Ingestions of this tenant finished per minute, measured over the last 10 minutes. */
  throughputPerMinute: z.number(),
  /** Until the queue is drained at that pace; null while nothing finished lately to measure it by. */
  expectedWaitSeconds: z.number().int().nullable(),
  /** Why the queue is not moving (the tenant's instance is not running), or null. */
  pausedReason: z.string().nullable(),
});
export type IngestionStatus = z.infer<typeof IngestionStatus>;

export const IngestionStatusInput = z.strictObject({ tenantId: TenantId });
export type IngestionStatusInput = z.infer<typeof IngestionStatusInput>;
