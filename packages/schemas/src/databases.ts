import { z } from "zod";
import { Citation } from "./chat";
import { idSchema, TenantId } from "./ids";
import { CollectionName, EmbeddingModelName, SearchMode, WhereFilter } from "./instances";

/**
 * Named databases (seed 004): a collection created with its own embedding model and chunking,
 * filled from files, whose status can be polled and which can be queried. Every document
 * ingested into its collection is chunked with its settings and embedded with its model.
 */
export const DatabaseId = idSchema("database");
export type DatabaseId = z.infer<typeof DatabaseId>;

export const DatabaseFields = z.strictObject({
  /** The collection's name in the tenant's instance. */
  name: CollectionName,
  /** Embedding model; default: the instance's own. */
  model: EmbeddingModelName.optional(),
  /** Vector dimension; needed for `hash` and `openai:*`. */
  dimension: z.number().int().min(1).max(8_192).optional(),
  chunkSize: z.number().int().min(50).max(2_000).default(400),
  chunkOverlap: z.number().int().min(0).max(500).default(50),
  /** How its queries, and chats over it, search unless they say otherwise. */
  searchMode: SearchMode.default("hybrid"),
});

export const CreateDatabaseInput = DatabaseFields.extend({ tenantId: TenantId }).refine(
  (input) => input.chunkOverlap < input.chunkSize,
  { message: "chunkOverlap must be smaller than chunkSize", path: ["chunkOverlap"] },
);
export type CreateDatabaseInput = z.input<typeof CreateDatabaseInput>;

export const Database = z.object({
  id: DatabaseId,
  tenantId: TenantId,
  name: z.string(),
  model: z.string(),
  dimension: z.number().int(),
  chunkSize: z.number().int(),
  chunkOverlap: z.number().int(),
  searchMode: SearchMode,
  createdAt: z.iso.datetime(),
});
export type Database = z.infer<typeof Database>;

/** What deleting a database answers: how many of its documents went with it. */
export const DatabaseDeleted = z.object({ deleted: z.literal(true), documents: z.number().int() });
export type DatabaseDeleted = z.infer<typeof DatabaseDeleted>;

/**
 * Where a database is: `empty` (no documents), `processing` (some still queued or being
 * ingested), `ready` (all ingested), `failed` (none ingested, some failed) or `partial` (done,
 * with some failed: see `failures`).
 */
export const DatabaseState = z.enum(["empty", "processing", "ready", "partial", "failed"]);
export type DatabaseState = z.infer<typeof DatabaseState>;

export const DatabaseStatus = z.object({
  database: Database,
  state: DatabaseState,
  documents: z.object({
    total: z.number().int(),
    uploading: z.number().int(),
    queued: z.number().int(),
    processing: z.number().int(),
    ready: z.number().int(),
    failed: z.number().int(),
  }),
  /** Chunks stored so far, across its ready documents. */
  chunks: z.number().int(),
  /** Failed documents with the reason, at most 20. */
  failures: z.array(z.object({ documentId: z.string(), title: z.string(), reason: z.string().nullable() })),
});
export type DatabaseStatus = z.infer<typeof DatabaseStatus>;

export const DatabaseRef = z.strictObject({ tenantId: TenantId, databaseId: DatabaseId });
export type DatabaseRef = z.infer<typeof DatabaseRef>;

export const ListDatabasesInput = z.strictObject({ tenantId: TenantId });
export type ListDatabasesInput = z.infer<typeof ListDatabasesInput>;

export const QueryDatabaseFields = z.strictObject({
  query: z.string().trim().min(1).max(4_000),
  nResults: z.number().int().min(1).max(50).default(5),
  /** Default: the database's `searchMode`. */
  mode: SearchMode.optional(),
  where: WhereFilter.optional(),
});
export const QueryDatabaseInput = DatabaseRef.extend(QueryDatabaseFields.shape);
export type QueryDatabaseInput = z.input<typeof QueryDatabaseInput>;

/** Passages nearest the query, best first, ready to cite. */
export const DatabaseQueryResult = z.object({
  databaseId: DatabaseId,
  results: z.array(Citation.omit({ n: true }).extend({ text: z.string() })),
});
export type DatabaseQueryResult = z.infer<typeof DatabaseQueryResult>;
