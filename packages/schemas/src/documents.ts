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

export const ListDocumentsInput = PageInput.extend({
  tenantId: TenantId,
  status: DocumentStatus.optional(),
  collection: CollectionName.optional(),
});
export type ListDocumentsInput = z.infer<typeof ListDocumentsInput>;
