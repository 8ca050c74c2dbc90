import path from "node:path";
import { fileURLToPath } from "node:url";
import { INSTANCE_MAX_BODY_BYTES } from "@vdb/schemas/instances";
import { z } from "zod";
import { ChatConfigFields } from "./chat/chat-config";
import { parseMasterKey } from "./lib/master-key";
import { DEFAULT_PASSWORD_HASH_COST, PASSWORD_HASH_COSTS } from "./lib/secrets";

// src/config.ts and the bundled dist/main.js are both one level below apps/control-plane.
const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL("../../console/dist", import.meta.url));

const Port = z.coerce.number().int().min(0).max(65_535);
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === "" ? undefined : value));

/** Every setting of the control plane. This is the only module that reads `process.env`. */
export const ConfigSchema = z.object({
  PORT: Port.default(8787),
  HOST: z.string().default("127.0.0.1"),
  /** The URL users reach this control plane at; the `iss` of instance tokens. */
  PUBLIC_URL: z.url().optional(),
  /** `production` makes VDB_MASTER_KEY mandatory (nothing secret is generated onto the disk). */
  NODE_ENV: optionalString,
  /**
   * Base64 of 32 random bytes (`openssl rand -base64 32`): encrypts the private token-signing keys
   * in the store. Unset outside production: generated once into DATA_DIR/master-key (0600).
   */
  VDB_MASTER_KEY: optionalString.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const key = parseMasterKey(value);
    if (!key) ctx.addIssue({ code: "custom", message: "must be base64 of exactly 32 bytes" });
    return key ?? undefined;
  }),
  /** Comma-separated former master keys: still opening what they sealed, re-sealed under the new key at start. */
  VDB_MASTER_KEY_PREVIOUS: optionalString.transform((value, ctx) =>
    (value ?? "")
      .split(",")
      .filter((item) => item.trim() !== "")
      .flatMap((item) => {
        const key = parseMasterKey(item);
        if (!key) ctx.addIssue({ code: "custom", message: "each key must be base64 of exactly 32 bytes" });
        return key ? [key] : [];
      }),
  ),
  /**
   * AWS KMS instead of VDB_MASTER_KEY (envelope encryption): the KMS key (id, ARN or alias) under
   * which VDB_MASTER_KEY_KMS_CIPHERTEXT was generated. Region and credentials: the SDK's chain.
   */
  VDB_MASTER_KEY_KMS_KEY_ID: optionalString,
  /** Base64 CiphertextBlob of a 32-byte data key KMS generated (decrypted through KMS at start). */
  VDB_MASTER_KEY_KMS_CIPHERTEXT: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, { message: "must be base64 (a KMS CiphertextBlob)" })
      .optional(),
  ),
  /** Comma-separated former data keys' ciphertexts, to rotate the data key (like VDB_MASTER_KEY_PREVIOUS). */
  VDB_MASTER_KEY_KMS_CIPHERTEXT_PREVIOUS: optionalString.transform((value, ctx) =>
    (value ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "")
      .filter((item) => {
        const isBase64 = /^[A-Za-z0-9+/]+={0,2}$/.test(item);
        if (!isBase64)
          ctx.addIssue({ code: "custom", message: "each must be base64 (a KMS CiphertextBlob)" });
        return isBase64;
      }),
  ),
  /** Root for embedded state (created 0700): PGlite's files live in `DATA_DIR/pglite`. */
  DATA_DIR: z.string().default("./data"),
  /** `postgres://…` to use a real PostgreSQL; otherwise embedded PGlite (or memory with `memory://`). */
  DATABASE_URL: optionalString,
  /**
   * PGlite's buffer pool (Postgres's `shared_buffers`): its pages are held in the process, and
   * zeroed when the store opens. Postgres's own default; tests run with a small one (see testing).
   */
  PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^[1-9][0-9]*(kB|MB|GB)$/, "a size such as 128MB (kB, MB or GB)")
    .default("128MB"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** First operator account, created at first start if no user exists. A password is generated when unset. */
  VDB_ADMIN_EMAIL: z.string().email().default("admin@vdb.local"),
  VDB_ADMIN_PASSWORD: optionalString,
  /**
   * scrypt's cost (N) for passwords set from now on; each stored hash keeps its own. Higher is
   * slower to guess and slower to log in (16384: ~40 ms of CPU a hash on these machines).
   */
  PASSWORD_HASH_COST: z.coerce
    .number()
    .int()
    .min(PASSWORD_HASH_COSTS.min)
    .max(PASSWORD_HASH_COSTS.max)
    .refine((n) => (n & (n - 1)) === 0, "must be a power of two")
    .default(DEFAULT_PASSWORD_HASH_COST),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 90)
    .default(24 * 7),
  /**
   * Failed logins allowed per email (known or not) and per client address within
   * LOGIN_THROTTLE_WINDOW_SECONDS; beyond, every attempt is refused 429 until the budget refills.
   * The budgets are kept in the store, shared by every control plane on it (`LoginThrottle`).
   */
  LOGIN_ATTEMPTS_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  LOGIN_ATTEMPTS_PER_ADDRESS: z.coerce.number().int().min(1).default(100),
  LOGIN_THROTTLE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /**
   * Take the client address from X-Forwarded-For (behind a load balancer that sets it). Off by
   * default: a client could otherwise name any address and escape the per-address login limit.
   */
  TRUST_PROXY: z
    .enum(["true", "false"])
    .default("false")
    .transform((value) => value === "true"),
  /** How long a verified API key is trusted from memory before it is read again. */
  API_KEY_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  /**
   * Longest life of an instance token: a request for more (up to the API's 86,400 s) is clamped
   * to this, and the answer's `expiresAt` says when it really expires. Revoking the API key a
   * token was minted with also ends it (instances learn within seconds); a token minted in a
   * console session ends only when it expires, so keep this short.
   */
  INSTANCE_TOKEN_MAX_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  /** How often each process polls for revoked keys and deleted tenants. */
  AUTH_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** Where tenant instances run: child processes here (`local`) or ECS tasks (`ecs`). */
  RUNTIME: z.enum(["local", "ecs"]).default("local"),
  /** Ports the local runtime may give instances, `first-last`. */
  INSTANCE_PORTS: z
    .string()
    .regex(/^\d+-\d+$/, { message: "must look like 9100-9499" })
    .default("9100-9499"),
  /** Embedding model and dimension of new instances (see packages/embeddings). */
  INSTANCE_MODEL: z.string().min(1).default("use-lite"),
  INSTANCE_DIMENSION: z.coerce.number().int().min(1).max(8_192).default(512),
  /**
   * Shared-tier tenants one pool instance serves; a launch that finds every pool this full makes
   * a new pool. Each tenant is a Chroma namespace there (about 120 ms to load on its first query
   * after a restart, resident after: see bench/density).
   */
  POOL_TENANTS_MAX: z.coerce.number().int().min(1).max(100_000).default(500),
  /**
   * How long a tier move may wait for its new place (a dedicated instance, a pool) to run; past
   * it the move fails and is rolled back, so a tenant's writes are never paused longer than this
   * plus the copy.
   */
  TIER_MOVE_WAIT_MS: z.coerce.number().int().min(100).max(3_600_000).default(300_000),
  /** How often the reconciler drives instances towards their desired state. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** Instances one reconciler pass works on at once: a slow stop or start holds up only its own. */
  RECONCILE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** An instance not healthy this long after starting is restarted. */
  INSTANCE_START_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** How long a health probe of an instance waits for its answer: a busy instance answers late. */
  INSTANCE_PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * A running instance that misses this many probes in a row AND has not answered one for
   * INSTANCE_LIVENESS_TIMEOUT_MS is taken for hung and restarted; until then it is only busy and
   * stays `running`. A process that exits is restarted at once, whatever these say.
   */
  INSTANCE_LIVENESS_FAILURES: z.coerce.number().int().min(1).max(1_000).default(3),
  INSTANCE_LIVENESS_TIMEOUT_MS: z.coerce.number().int().min(100).default(120_000),
  /**
   * A running dedicated instance that has had no data-plane request (REST, tRPC, the Chroma
   * gateway, chat, the widget, ingestion) for this long is put to sleep: stopped, its data kept,
   * state `sleeping`; the next request wakes it. Unset: each plan's own (`sleepAfterIdleMs` in
   * packages/schemas/src/plans.ts: Starter 15 min, the others never); 0: no instance ever sleeps.
   */
  INSTANCE_SLEEP_AFTER_IDLE_MS: z.coerce.number().int().min(0).optional(),
  /**
   * How long a request for a sleeping instance waits for it to wake before it is answered 503
   * with a Retry-After (it keeps waking meanwhile).
   */
  INSTANCE_WAKE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** After this long running healthy, an instance's crash count (and so its restart backoff) starts again from zero. */
  INSTANCE_HEALTHY_RESET_MS: z.coerce.number().int().min(1_000).default(600_000),
  /**
   * Local runtime, what happens to instances when the control plane stops: `auto` stops them on
   * SIGINT (Ctrl-C: the platform is being stopped) and leaves them running on SIGTERM (a
   * supervisor's restart: the next control plane re-adopts them at once); `true` always stops
   * them, `false` never does.
   */
  STOP_INSTANCES_ON_EXIT: z.enum(["auto", "true", "false"]).default("auto"),
  ECS_CLUSTER: optionalString,
  ECS_TASK_DEFINITION: optionalString,
  ECS_CONTAINER_NAME: z.string().default("instance"),
  /** Comma-separated subnet and security-group ids for the instances' awsvpc network. */
  ECS_SUBNETS: optionalString,
  ECS_SECURITY_GROUPS: optionalString,
  /** S3 (or any S3-compatible store) for uploaded files; without a bucket, files go to DATA_DIR/blobs. */
  S3_BUCKET: optionalString,
  S3_REGION: z.string().default("us-east-1"),
  S3_ENDPOINT: optionalString,
  S3_FORCE_PATH_STYLE: z
    .enum(["true", "false"])
    .default("false")
    .transform((value) => value === "true"),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  /** Signs upload URLs of the disk blob store (>= 32 characters). Unset: generated once and kept in DATA_DIR. */
  UPLOAD_URL_SECRET: optionalString.pipe(z.string().min(32).optional()),
  UPLOAD_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(900),
  /** Run the ingestion worker inside this process (default); `false` when a separate `worker` process runs it. */
  RUN_WORKER: z
    .enum(["true", "false"])
    .default("true")
    .transform((value) => value === "true"),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  /** Processes that parse and chunk uploaded files, off the serving event loop (each up to PARSE_MEMORY_MB). */
  PARSE_WORKERS: z.coerce.number().int().min(1).max(64).default(2),
  /** Most of those one tenant may use at once (default: half, rounded up), so others never queue behind it. */
  PARSE_WORKERS_PER_TENANT: z.coerce.number().int().min(1).max(64).optional(),
  /**
   * CPU time a file may take to be parsed and chunked (its worker's own, so a busy machine fails
   * no file); past it the file is failed ("took longer than 60 s to parse"), its process killed.
   * A worker starved of CPU for 10× this (at least 10 minutes) is stopped and the file retried.
   */
  PARSE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** Memory one file's parsing may take (resident, beyond the parser's own); past it the file is failed. */
  PARSE_MEMORY_MB: z.coerce.number().int().min(16).max(65_536).default(512),
  /** Longest PDF read, in pages; longer ones are failed before any page is read. */
  PARSE_MAX_PDF_PAGES: z.coerce.number().int().min(1).max(1_000_000).default(2_000),
  /** How long a worker holds a job without renewing its lease; a crashed worker's jobs resume after it. */
  JOB_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /** A failed job's first retry waits about this long, each next one twice as long (see exponentialBackoff). */
  JOB_RETRY_BASE_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
  /**
   * On SIGTERM/SIGINT, how long running ingestion jobs may take to finish; then they are given
   * back to the queue (and resume after a restart) and the process exits.
   */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /**
   * Documents one tenant may have queued or in ingestion; beyond it new ingestion is refused
   * with 429 and a Retry-After from the recent pace, so clients slow down instead of piling up.
   */
  INGEST_QUEUE_MAX_PER_TENANT: z.coerce.number().int().min(1).max(1_000_000).default(500),
  /**
   * `/embed` batches (up to 64 chunks each) one ingestion keeps in flight to the tenant's instance: two
   * keep both of its embedding threads busy while the control plane sends the next batch; memory
   * stays at that many batches. 1 sends them one after another.
   */
  INGEST_EMBED_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** The built admin console served at `/` (default: apps/console/dist of this checkout). */
  CONSOLE_DIR: z.string().min(1).default(DEFAULT_CONSOLE_DIR),
  /** Largest JSON body accepted on any route but the Chroma gateway's. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
  /**
   * Largest body the Chroma gateway (`/api/v2`) passes on: Chroma's own payload limit (40 MiB) by
   * default, so the stock clients' batches fit. At most what an instance accepts.
   */
  GATEWAY_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(INSTANCE_MAX_BODY_BYTES)
    .default(40 * 1024 * 1024),
  /** The built chat widget (`apps/widget/dist`) served at /widget.js; default: found beside this app. */
  WIDGET_DIST_DIR: optionalString,
  /**
   * Lifetime of the widget's embed tokens (the widget refreshes at 80% of it). At least 5 s, or
   * the refreshes alone would eat the widget's token rate; at most an hour, since a leaked token
   * works (from its Origin) until it expires.
   */
  EMBED_TOKEN_TTL_SECONDS: z.coerce.number().int().min(5).max(3_600).default(600),
  /** LLM_MODEL, LLM_BASE_URL, LLM_API_KEY, LLM_TIMEOUT_MS: see src/chat/chat-config.ts. */
  ...ChatConfigFields.shape,
});

export type Config = z.infer<typeof ConfigSchema> & { publicUrl: string };

/** Parses settings once; a bad value stops the start with a message naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const config = parsed.data;
  return {
    ...config,
    DATA_DIR: path.resolve(config.DATA_DIR),
    CONSOLE_DIR: path.resolve(config.CONSOLE_DIR),
    publicUrl: (config.PUBLIC_URL ?? `http://${displayHost(config.HOST)}:${config.PORT}`).replace(/\/$/, ""),
  };
}

function displayHost(host: string): string {
  return host === "0.0.0.0" || host === "::" ? "localhost" : host;
}
