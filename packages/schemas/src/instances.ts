import { z } from "zod";
import { TenantId } from "./ids";
import { MAX_WHERE_DEPTH, nestingDepth } from "./input-hygiene";
import { Plan } from "./plans";

/**
 * The data plane: what a tenant's instance accepts (`POST /embed`, `/search`, `/delete`,
 * `GET /healthz`, collections), and what the control plane forwards to it unchanged.
 * Field names follow Chroma's (`ids`, `documents`, `metadatas`, `embeddings`), camel-cased.
 */

/** Chroma's rule: 3-63 characters of `[a-zA-Z0-9._-]`, alphanumeric at both ends. */
export const CollectionName = z.string().regex(/^[a-zA-Z0-9](?:[a-zA-Z0-9._-]{1,61})[a-zA-Z0-9]$/, {
  message:
    "must be 3-63 characters of letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
});

export const DEFAULT_COLLECTION = "default";

/** Largest batch one request may carry; the instance splits it into Chroma-sized writes. */
export const MAX_BATCH = 10_000;
/**
 * Largest request body an instance accepts. The zod schemas bound the content (MAX_BATCH items);
 * this bounds the bytes before parsing: a full batch of short documents with 1536-d vectors fits,
 * and so does the largest body the control plane's Chroma gateway may be set to pass on.
 */
export const INSTANCE_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Chroma 1.0 rejects bigger single writes (measured: ~5,461). */
export const CHROMA_MAX_WRITE = 5_000;

export const MetadataValue = z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.null()]);
export const Metadata = z.record(z.string().min(1).max(200), MetadataValue);
export type Metadata = z.infer<typeof Metadata>;

const Vector = z.array(z.number().finite()).min(1).max(8_192);
const DocumentId = z.string().min(1, { message: "ids must not be empty" }).max(512);

export const EmbedRequest = z
  .strictObject({
    collection: CollectionName.default(DEFAULT_COLLECTION),
    ids: z.array(DocumentId).min(1).max(MAX_BATCH),
    documents: z.array(z.string().max(100_000)).optional(),
    metadatas: z.array(Metadata.nullable()).optional(),
    /** Precomputed vectors; without them the instance embeds `documents` with its model. */
    embeddings: z.array(Vector).optional(),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.ids.forEach((id, index) => {
      if (seen.has(id))
        ctx.addIssue({ code: "custom", path: ["ids", index], message: `duplicate id "${id}" in batch` });
      seen.add(id);
    });
    for (const field of ["documents", "metadatas", "embeddings"] as const) {
      const values = body[field];
      if (values && values.length !== body.ids.length) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `has ${values.length} entries for ${body.ids.length} ids`,
        });
      }
    }
    if (!body.documents && !body.embeddings) {
      ctx.addIssue({ code: "custom", path: ["documents"], message: "give documents, embeddings or both" });
    }
  });
export type EmbedRequest = z.input<typeof EmbedRequest>;

export const EmbedResponse = z.object({
  collection: z.string(),
  upserted: z.number().int(),
  dimension: z.number().int(),
  count: z.number().int().describe("documents in the collection afterwards"),
  truncated: z
    .array(z.string())
    .describe(
      "ids of the documents longer than the model's input window (use-lite: 128 tokens, about 400-500 " +
        "characters of English): each is stored whole, but its vector comes from its first 128 tokens only",
    ),
});
export type EmbedResponse = z.infer<typeof EmbedResponse>;

// Chroma's filter language, validated so an unknown operator is a 400 instead of a Chroma 500.
type Where = { [key: string]: unknown };
const Scalar = z.union([z.string(), z.number().finite(), z.boolean()]);
const FieldOperators = z
  .strictObject({
    $eq: Scalar,
    $ne: Scalar,
    $gt: z.number(),
    $gte: z.number(),
    $lt: z.number(),
    $lte: z.number(),
    $in: z.array(Scalar).min(1),
    $nin: z.array(Scalar).min(1),
  })
  .partial()
  .refine((ops) => Object.keys(ops).length === 1, { message: "use exactly one operator per field" });

/** A filter nested past MAX_WHERE_DEPTH is refused before the recursive schema walks it. */
function capWhereDepth(value: unknown, ctx: z.RefinementCtx): unknown {
  if (nestingDepth(value, MAX_WHERE_DEPTH) > MAX_WHERE_DEPTH) {
    ctx.addIssue({
      code: "custom",
      message: `is nested more than ${MAX_WHERE_DEPTH} levels deep`,
      input: value,
    });
  }
  return value;
}

// Recursive schemas carry an id so OpenAPI generators emit a $ref instead of recursing forever.
export const WhereFilter: z.ZodType<Where> = z
  .preprocess(
    capWhereDepth,
    z.lazy(() =>
      z.union([
        z.strictObject({ $and: z.array(WhereFilter).min(2) }),
        z.strictObject({ $or: z.array(WhereFilter).min(2) }),
        z
          .record(
            z.string().regex(/^[^$]/, { message: "unknown operator; use $and, $or or a field name" }),
            z.union([Scalar, FieldOperators]),
          )
          .refine((value) => Object.keys(value).length === 1, {
            message: "one field per object; combine several with $and",
          }),
      ]),
    ),
  )
  .meta({ id: "WhereFilter", description: "Chroma metadata filter" });

export const WhereDocumentFilter: z.ZodType<Where> = z
  .preprocess(
    capWhereDepth,
    z.lazy(() =>
      z.union([
        z.strictObject({ $contains: z.string().min(1) }),
        z.strictObject({ $not_contains: z.string().min(1) }),
        z.strictObject({ $regex: z.string().min(1) }),
        z.strictObject({ $not_regex: z.string().min(1) }),
        z.strictObject({ $and: z.array(WhereDocumentFilter).min(2) }),
        z.strictObject({ $or: z.array(WhereDocumentFilter).min(2) }),
      ]),
    ),
  )
  .meta({ id: "WhereDocumentFilter", description: "Chroma document-content filter" });

export const IncludeField = z.enum(["documents", "metadatas", "distances", "embeddings"]);

/**
 * How a search ranks: `vector` (nearest embeddings), `keyword` (BM25 over the documents' text,
 * stemmed, English stop words dropped) or `hybrid` (both, fused by reciprocal rank, k = 60).
 */
export const SearchMode = z.enum(["vector", "keyword", "hybrid"]).meta({
  id: "SearchMode",
  description: "vector, keyword (BM25) or hybrid (reciprocal rank fusion of both)",
});
export type SearchMode = z.infer<typeof SearchMode>;

/** What a search without `mode` does: hybrid for a text, vector for a vector (which has no text). */
export function defaultSearchMode(request: { query?: string | undefined }): SearchMode {
  return request.query === undefined ? "vector" : "hybrid";
}

export const SearchRequest = z
  .strictObject({
    collection: CollectionName.default(DEFAULT_COLLECTION),
    query: z.string().min(1).max(10_000).optional(),
    queryEmbedding: Vector.optional(),
    /** Default: `hybrid` for a `query`, `vector` for a `queryEmbedding`. */
    mode: SearchMode.optional(),
    nResults: z.number().int().min(1).max(1_000).default(10),
    where: WhereFilter.optional(),
    whereDocument: WhereDocumentFilter.optional(),
    include: z.array(IncludeField).default(["documents", "metadatas", "distances"]),
  })
  .refine((body) => (body.query === undefined) !== (body.queryEmbedding === undefined), {
    message: "give exactly one of query or queryEmbedding",
    path: ["query"],
  })
  .refine((body) => body.queryEmbedding === undefined || (body.mode ?? "vector") === "vector", {
    message:
      "keyword and hybrid search need a query text; a queryEmbedding can only be searched with mode vector",
    path: ["mode"],
  });
export type SearchRequest = z.input<typeof SearchRequest>;

/**
 * One search result. Every hit, in every mode, has `score`: what it is ranked by, higher first
 * (compare scores within one answer, not across modes). Beside it, `vectorScore` wherever the query
 * was embedded (vector and hybrid) and `keywordScore` wherever BM25 ran (keyword and hybrid), for
 * every hit, including those only the other ranking found.
 */
export const SearchHit = z.object({
  id: z.string(),
  document: z.string().nullable().optional(),
  metadata: Metadata.nullable().optional(),
  /**
   * Chroma's vector distance (with `include: ["distances"]`), lower is nearer: in vector and hybrid
   * mode for every hit; null in keyword mode, which never embeds the query.
   */
  distance: z.number().nullable().optional(),
  embedding: z.array(z.number()).nullable().optional(),
  /**
   * What the hit is ranked by, higher first: in vector mode its similarity (= `vectorScore`), in
   * keyword mode its BM25 score (= `keywordScore`), in hybrid its reciprocal-rank-fusion score,
   * Σ 1 / (60 + rank) over the rankings that have it (at most 2/61 ≈ 0.0328).
   */
  score: z
    .number()
    .describe(
      "What the hit is ranked by, higher first: vector similarity (vector mode), BM25 (keyword), reciprocal rank fusion Σ 1/(60 + rank) (hybrid)",
    ),
  /**
   * Similarity to the query, 1 − distance: the cosine similarity (−1 to 1) in a cosine collection,
   * which every collection VDB creates. In vector and hybrid mode.
   */
  vectorScore: z
    .number()
    .optional()
    .describe(
      "Similarity to the query, 1 − distance (cosine similarity in VDB's collections); vector and hybrid modes",
    ),
  /** BM25 score of the query's words in the hit's text (0: none of them), in keyword and hybrid mode. */
  keywordScore: z
    .number()
    .optional()
    .describe("BM25 score of the query's words in the hit (0: none of them); keyword and hybrid modes"),
  /** Rank (from 1) in each ranking the mode ran, each 100 deep in hybrid; null beyond that depth. */
  ranks: z
    .object({
      vector: z.number().int().nullable().optional(),
      keyword: z.number().int().nullable().optional(),
    })
    .optional(),
});
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchResponse = z.object({
  collection: z.string(),
  /** The mode the search ran in (the default resolved). */
  mode: SearchMode,
  results: z.array(SearchHit),
  queryTruncated: z
    .boolean()
    .optional()
    .describe(
      "present for a text query: true when it was longer than the model's input window and only its start was embedded",
    ),
});
export type SearchResponse = z.infer<typeof SearchResponse>;

export const DeleteRequest = z
  .strictObject({
    collection: CollectionName.default(DEFAULT_COLLECTION),
    ids: z.array(DocumentId).min(1).max(MAX_BATCH).optional(),
    where: WhereFilter.optional(),
  })
  .refine((body) => body.ids !== undefined || body.where !== undefined, {
    message: "give ids, where or both (deleting everything needs the collection's DELETE)",
    path: ["ids"],
  });
export type DeleteRequest = z.input<typeof DeleteRequest>;

/** Records of a collection as stored, for browsing: by ids, by metadata filter, a page at a time. */
export const GetRecordsRequest = z.strictObject({
  collection: CollectionName.default(DEFAULT_COLLECTION),
  ids: z.array(DocumentId).min(1).max(1_000).optional(),
  where: WhereFilter.optional(),
  limit: z.number().int().min(1).max(1_000).default(20),
  offset: z.number().int().min(0).default(0),
});
export type GetRecordsRequest = z.input<typeof GetRecordsRequest>;

export const StoredRecord = z.object({
  id: z.string(),
  document: z.string().nullable(),
  metadata: Metadata.nullable(),
});
export type StoredRecord = z.infer<typeof StoredRecord>;

export const GetRecordsResponse = z.object({
  collection: z.string(),
  /** In Chroma's order (insertion order), `limit` at most, from `offset`. */
  records: z.array(StoredRecord),
  /** Every record in the collection, whatever the filter (Chroma cannot count a filtered set). */
  count: z.number().int(),
});
export type GetRecordsResponse = z.infer<typeof GetRecordsResponse>;

export const DeleteResponse = z.object({
  collection: z.string(),
  deleted: z.number().int(),
  count: z.number().int(),
});
export type DeleteResponse = z.infer<typeof DeleteResponse>;

export const Collection = z.object({
  name: z.string(),
  /** The embedding provider the collection was created with, and its dimension. */
  model: z.string(),
  dimension: z.number().int(),
  count: z.number().int(),
});
export type Collection = z.infer<typeof Collection>;

/**
 * An embedding model by name, as instances and named databases take it: `use-lite` (offline,
 * 512-d), `hash` (tests; any dimension), `openai:<model>` (needs the instance's OpenAI key) or
 * `transformers:<model dir>` (only the instance's own configured one).
 */
export const EmbeddingModelName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^(use-lite|hash|openai:[\w.:-]+|transformers:.+)$/, {
    message: "must be use-lite, hash, openai:<model> or transformers:<model dir>",
  });

export const CreateCollectionRequest = z.strictObject({
  name: CollectionName,
  /** The collection's own embedding model; default: the instance's. */
  model: EmbeddingModelName.optional(),
  /** Its vector dimension; needed for `hash` and `openai:*`, fixed by the others. */
  dimension: z.number().int().min(1).max(8_192).optional(),
});
export type CreateCollectionRequest = z.infer<typeof CreateCollectionRequest>;

export const InstanceHealth = z.object({
  status: z.enum(["ok", "degraded"]),
  tenantId: TenantId,
  plan: Plan,
  model: z.string(),
  dimension: z.number().int(),
  /** Models a collection may be created with on this instance (besides its default). */
  models: z.array(z.string()).optional(),
  maxDocs: z.number().int(),
  chroma: z.object({ heartbeat: z.boolean(), version: z.string().nullable() }),
  counts: z.object({ collections: z.number().int(), documents: z.number().int() }),
  uptimeSeconds: z.number(),
  /**
   * The records searches read from Chroma (those without text: the keyword index's rows file has
   * the others), kept in memory until their namespace's next write (ROW_CACHE_MB):
   * how many and their estimated bytes, against the budget. A pool's is shared by its tenants,
   * so only the control plane's tokens see it there.
   */
  rowCache: z
    .object({ rows: z.number().int(), bytes: z.number().int(), maxBytes: z.number().int() })
    .optional(),
  /**
   * A pool's memory bounds and how full they are: shown to the control plane's own tokens only
   * (a tenant learns nothing of its neighbours, not even how many are active).
   */
  pool: z
    .object({
      loadedTenants: z.number().int(),
      maxLoadedTenants: z.number().int(),
      tenantIdleMs: z.number().int(),
      /** HNSW indexes the pool's Chroma keeps loaded at most (null: a CHROMA_URL it does not run). */
      chromaHnswCache: z.number().int().nullable(),
    })
    .optional(),
});
export type InstanceHealth = z.infer<typeof InstanceHealth>;

/**
 * `/healthz` without a token: only whether the instance is alive (200 `ok`, 503 `degraded`);
 * its configuration and counts need an instance token.
 */
export const InstanceLiveness = z.object({ status: z.enum(["ok", "degraded"]) });
export type InstanceLiveness = z.infer<typeof InstanceLiveness>;

/**
 * What the control plane wants an instance to be, and what it observes it is. `sleeping`: meant
 * to run but stopped after a quiet spell (its data kept); the first data-plane request wakes it
 * (`waking` until it answers, then `running`). An explicit stop is `stopped` and nothing wakes it.
 */
export const DESIRED_INSTANCE_STATES = ["running", "stopped", "deleted"] as const;
export const DesiredInstanceState = z.enum(DESIRED_INSTANCE_STATES);
export type DesiredInstanceState = z.infer<typeof DesiredInstanceState>;
/** The store's column takes exactly these (see `lib/db/schema.ts` in the control plane). */
export const INSTANCE_STATES = [
  "pending",
  "starting",
  "running",
  "stopping",
  "stopped",
  "sleeping",
  "waking",
  "failed",
  "deleted",
] as const;
export const InstanceState = z.enum(INSTANCE_STATES);
export type InstanceState = z.infer<typeof InstanceState>;

/** A tenant's instance as the control plane reports it. */
export const Instance = z.object({
  tenantId: TenantId,
  /** `dedicated`: the tenant's own instance; `shared`: the pool it is placed in (see `poolId`). */
  tier: z.enum(["shared", "dedicated"]),
  /** The pool serving a shared-tier tenant (its state and URL are the pool's); null when dedicated. */
  poolId: z.string().nullable(),
  runtime: z.enum(["local", "ecs"]),
  desiredState: DesiredInstanceState,
  state: InstanceState,
  /** Where the instance answers (direct access with an instance token); null until running. */
  url: z.string().nullable(),
  model: z.string(),
  dimension: z.number().int(),
  lastError: z.string().nullable(),
  restartCount: z.number().int(),
  stateChangedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Instance = z.infer<typeof Instance>;

export const LaunchInstanceInput = z.strictObject({
  tenantId: TenantId,
  /** Embedding model for a new instance (default: the platform's); fixed once created. */
  model: z.string().min(1).max(200).optional(),
  dimension: z.number().int().min(1).max(8_192).optional(),
});
export type LaunchInstanceInput = z.infer<typeof LaunchInstanceInput>;
