import { availableParallelism } from "node:os";
import path from "node:path";
import { PoolId, TenantId } from "@vdb/schemas/ids";
import { Plan } from "@vdb/schemas/plans";
import { z } from "zod";

const optional = z
  .string()
  .optional()
  .transform((value) => (value === "" ? undefined : value));

/**
 * Every setting of an instance, from its environment (the local runtime and the ECS task
 * definition inject exactly these; a test keeps `infra/` in sync with this schema).
 */
export const InstanceConfigSchema = z.object({
  /** The one tenant a dedicated instance serves (or POOL_ID: a pool, serving many). */
  TENANT_ID: optional.pipe(TenantId.optional()),
  /**
   * Pool mode (the shared tier): the instance serves every tenant whose token names this pool,
   * each in its own Chroma tenant/database namespace, with MAX_DOCS and PLAN applying per tenant.
   */
  POOL_ID: optional.pipe(PoolId.optional()),
  /**
   * Pool mode: requests of one tenant running here at once; more wait their turn (up to
   * POOL_TENANT_QUEUE of them, then 429), so one busy tenant cannot take every slot of its pool.
   */
  POOL_TENANT_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(4),
  POOL_TENANT_QUEUE: z.coerce.number().int().min(0).max(10_000).default(64),
  /**
   * Pool mode, with its own Chroma: memory for the collections' HNSW indexes Chroma keeps loaded,
   * in MB. Chroma 1.0 reserves 10,000 slots per index however few records it holds, so a loaded
   * index costs the same whatever its size (`hnswIndexMb`: ~24 MB at 512-d, ~7 MB at 64-d,
   * ~63 MB at 1536-d); the least recently used beyond the count this budget buys are dropped and
   * reloaded from disk on their next search (~0.1-0.3 s). So a pool's Chroma holds about this
   * much in indexes at most, however many tenants it serves: size it to the collections
   * searched within a few minutes (the default: 63 at 512-d, within the ECS task's 2 GB).
   * (A CHROMA_URL sidecar is configured on its own.)
   */
  POOL_CHROMA_INDEX_MEMORY_MB: z.coerce.number().int().min(1).max(1_048_576).default(1_536),
  /** Pool mode: the number of HNSW indexes Chroma keeps loaded, instead of the count POOL_CHROMA_INDEX_MEMORY_MB buys. */
  POOL_CHROMA_HNSW_CACHE: optional.pipe(
    z.coerce.number<string | undefined>().int().min(1).max(65_536).optional(),
  ),
  /**
   * Pool mode: a tenant with no request for this long has its state here dropped (keyword
   * indexes, collection handles, gate, rate limits); its next request loads it from disk.
   */
  POOL_TENANT_IDLE_MS: z.coerce.number().int().min(1_000).default(300_000),
  /** Pool mode: at most this many tenants' state in memory; past it the least recently used idle one is dropped. */
  POOL_MAX_LOADED_TENANTS: z.coerce.number().int().min(1).default(200),
  PLAN: Plan.default("starter"),
  /** Embedding model: `use-lite` | `hash` | `openai:<model>` | `transformers:<dir>`. */
  MODEL_NAME: z.string().min(1).default("use-lite"),
  DIMENSION: z.coerce.number().int().min(1).max(8_192).default(512),
  MAX_DOCS: z.coerce.number().int().min(1).default(100_000),
  /**
   * Worker threads that run a CPU model (use-lite, transformers:*), each with its own copy of it
   * (use-lite: ~150-200 MB RSS each); one per core by default. `hash` and `openai:*` use none.
   */
  EMBED_WORKERS: z.coerce.number().int().min(1).max(64).default(availableParallelism()),
  /**
   * How much nicer than the instance an embedding thread is while it embeds an upsert's texts
   * (Linux: per thread), so that other processes and this instance's searches come first; 0 off.
   */
  EMBED_BULK_NICENESS: z.coerce.number().int().min(0).max(19).default(10),
  /**
   * Memory for the documents and metadatas searches read from Chroma, in MB (0: none): those of
   * records without text, which the keyword index's rows file lacks. Every write drops its
   * namespace's rows (see documents/row-cache). One budget for the process, shared by a pool's
   * tenants.
   */
  ROW_CACHE_MB: z.coerce.number().min(0).max(65_536).default(32),
  /** An existing Chroma server (an ECS sidecar); without it the instance runs `chroma run` itself. */
  CHROMA_URL: optional.pipe(z.url().optional()),
  /** Where the instance's own Chroma keeps its files (used without CHROMA_URL). */
  DATA_DIR: z.string().default("./data/instance"),
  /** The control plane's JWKS, to verify instance tokens without holding a secret. */
  JWKS_URL: z.url(),
  /**
   * How old the list of revoked API keys (read from the control plane beside JWKS_URL) may get
   * before a request refreshes it: a revoked key's tokens are refused within about twice this.
   */
  REVOCATION_REFRESH_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** The control plane's URL: the `iss` every instance token must carry. */
  TOKEN_ISSUER: z.string().min(1),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().default("127.0.0.1"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  OPENAI_API_KEY: optional,
  OPENAI_BASE_URL: optional,
  /** A file to append each search's phase timings to, one JSON line each (bench/retrieval); off by default. */
  SEARCH_PHASES_FILE: optional,
});

export type InstanceConfig = z.infer<typeof InstanceConfigSchema>;

/** Whom an instance serves: one tenant (dedicated) or the tenants placed in a pool. */
export type Serves = { kind: "tenant"; tenantId: string } | { kind: "pool"; poolId: string };

export function servesOf(config: InstanceConfig): Serves {
  if (config.POOL_ID) return { kind: "pool", poolId: config.POOL_ID };
  return { kind: "tenant", tenantId: config.TENANT_ID! };
}

/** The environment variables an instance reads: what a runtime must provide (or may). */
export const INSTANCE_ENV_VARS = Object.keys(InstanceConfigSchema.shape) as (keyof InstanceConfig)[];

export function loadInstanceConfig(env: Record<string, string | undefined> = process.env): InstanceConfig {
  const parsed = InstanceConfigSchema.refine(
    (config) => (config.TENANT_ID === undefined) !== (config.POOL_ID === undefined),
    {
      message: "set exactly one of TENANT_ID (a dedicated instance) and POOL_ID (a pool)",
      path: ["TENANT_ID"],
    },
  ).safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid instance configuration:\n${lines.join("\n")}`);
  }
  return { ...parsed.data, DATA_DIR: path.resolve(parsed.data.DATA_DIR) };
}

/** The slots Chroma 1.0 reserves in every HNSW index (in memory once loaded, and on disk), whatever it holds. */
const CHROMA_HNSW_SLOTS = 10_000;

/**
 * MB one loaded HNSW index of `dimension` takes in Chroma 1.0: its 10,000 slots of a vector,
 * 32 level-0 links and a label (hnswlib's layout, M = 16: the size of its data_level0.bin), plus
 * ~3.5 MB for the rest. Measured (`chroma run`'s RSS before and after 10 indexes of 100 records
 * were loaded from disk): 24.5 MB each at 512-d, 6.9 MB at 64-d; this gives 24.4 and 7.3.
 */
export function hnswIndexMb(dimension: number): number {
  return (CHROMA_HNSW_SLOTS * (dimension * 4 + 32 * 4 + 4 + 8)) / 2 ** 20 + 3.5;
}

/** How many HNSW indexes a pool's Chroma keeps loaded: POOL_CHROMA_HNSW_CACHE, or what the memory budget buys. */
export function poolHnswCacheCapacity(
  config: Pick<InstanceConfig, "POOL_CHROMA_HNSW_CACHE" | "POOL_CHROMA_INDEX_MEMORY_MB" | "DIMENSION">,
): number {
  return (
    config.POOL_CHROMA_HNSW_CACHE ??
    Math.max(1, Math.floor(config.POOL_CHROMA_INDEX_MEMORY_MB / hnswIndexMb(config.DIMENSION)))
  );
}
