import { DESIRED_INSTANCE_STATES, INSTANCE_STATES, type SearchMode } from "@vdb/schemas/instances";
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

export const tenants = pgTable("tenants", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  plan: text("plan", { enum: ["free", "starter", "pro", "enterprise"] }).notNull(),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const users = pgTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  passwordHash: text("password_hash").notNull(),
  isOperator: boolean("is_operator").notNull().default(false),
  /** Set while the password is one an administrator chose (an invite, a reset): the next login must replace it. */
  mustChangePassword: boolean("must_change_password").notNull().default(false),
  createdAt: createdAt(),
});

export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (table) => [index("sessions_user_idx").on(table.userId)],
);

/**
 * Failed logins (and failed current-password checks) per email and per client address, the
 * budgets of `LoginThrottle`: kept in the store, so every control plane on it spends the same
 * budget and a restart does not refill it. Keyed by a sha256 hash: the store keeps no email or
 * address a stranger typed in clear (an unkeyed hash: whoever holds the store and guesses an email
 * can confirm it).
 */
export const loginFailures = pgTable(
  "login_failures",
  {
    keyHash: text("key_hash").primaryKey(),
    /** Failures not yet forgiven as of `updated_at`; drains evenly over the window, never above the budget. */
    level: doublePrecision("level").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
  },
  (table) => [index("login_failures_updated_idx").on(table.updatedAt)],
);

export const memberships = pgTable(
  "memberships",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "viewer"] }).notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.tenantId] }),
    index("memberships_tenant_idx").on(table.tenantId),
  ],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    start: text("start").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    scopes: jsonb("scopes").$type<("read" | "write" | "admin")[]>().notNull(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (table) => [index("api_keys_tenant_idx").on(table.tenantId, table.createdAt)],
);

/**
 * Append-only notices that cached credentials went stale (a key revoked, a tenant deleted).
 * Every control-plane process polls the recent rows, so a revocation reaches all their
 * in-memory key caches within one poll interval without a database read per request.
 */
export const authInvalidations = pgTable(
  "auth_invalidations",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    keyId: text("key_id"),
    tenantId: text("tenant_id"),
    createdAt: createdAt(),
  },
  (table) => [index("auth_invalidations_created_idx").on(table.createdAt)],
);

export const signingKeys = pgTable(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    alg: text("alg").notNull(),
    status: text("status", { enum: ["active", "previous", "retired"] }).notNull(),
    publicJwk: jsonb("public_jwk").$type<Record<string, unknown>>().notNull(),
    /** Sealed under the master key (`SealedSecret` in lib/master-key.ts); a bare JWK only in rows from before. */
    privateJwk: jsonb("private_jwk").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    retiredAt: timestamp("retired_at", { withTimezone: true }),
  },
  // At most one active key: two processes racing to create the first key cannot both win.
  (table) => [uniqueIndex("signing_keys_one_active").on(table.status).where(sql`status = 'active'`)],
);

/** Kept when a tenant is deleted (no foreign key): the audit trail must outlive what it describes. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id"),
    actorType: text("actor_type", { enum: ["user", "apiKey", "system"] }).notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    targetId: text("target_id"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    createdAt: createdAt(),
  },
  (table) => [
    index("audit_log_tenant_idx").on(table.tenantId, table.createdAt),
    index("audit_log_created_idx").on(table.createdAt),
  ],
);

export const usageEvents = pgTable(
  "usage_events",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    quantity: integer("quantity").notNull().default(1),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (table) => [index("usage_events_tenant_idx").on(table.tenantId, table.kind, table.createdAt)],
);

/**
 * Instances the reconciler runs: a dedicated tenant's (`kind` dedicated, keyed by its tenant id)
 * and pools (`kind` pool, keyed by a pool id `pol_…`) serving shared-tier tenants. Each row holds
 * what the instance should be (`desiredState`, set by users) and what it is (`state`, set only by
 * the reconciler), plus the runtime handle needed to find it again after a control-plane restart.
 * No foreign key to tenants, since a pool is no tenant's: deleting a tenant deletes its instance
 * row itself.
 */
export const instances = pgTable(
  "instances",
  {
    /** The tenant's id, or the pool's. */
    tenantId: text("tenant_id").primaryKey(),
    kind: text("kind", { enum: ["dedicated", "pool"] })
      .notNull()
      .default("dedicated"),
    runtime: text("runtime", { enum: ["local", "ecs"] }).notNull(),
    desiredState: text("desired_state", { enum: DESIRED_INSTANCE_STATES }).notNull(),
    state: text("state", { enum: INSTANCE_STATES }).notNull(),
    model: text("model").notNull(),
    dimension: integer("dimension").notNull(),
    handleRef: text("handle_ref"),
    url: text("url"),
    lastError: text("last_error"),
    restartCount: integer("restart_count").notNull().default(0),
    /** The environment the running process was started with; null until a start (or for rows from before 0006). */
    launchEnv: jsonb("launch_env").$type<Record<string, string>>(),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }),
    /**
     * The last data-plane request (any surface) or ingestion for this tenant, as flushed by the
     * control planes every few seconds: what the reconciler measures idleness from.
     */
    lastActiveAt: timestamp("last_active_at", { withTimezone: true }),
    stateChangedAt: timestamp("state_changed_at", { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("instances_updated_idx").on(table.updatedAt)],
);

/** Which pool a shared-tier tenant lives in (its namespace there is named by its tenant id). */
export const poolPlacements = pgTable(
  "pool_placements",
  {
    tenantId: text("tenant_id")
      .primaryKey()
      .references(() => tenants.id, { onDelete: "cascade" }),
    poolId: text("pool_id").notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("pool_placements_pool_idx").on(table.poolId)],
);

/** An uploaded or posted document; its text lives in `chunks` and, embedded, in the tenant's instance. */
export const documents = pgTable(
  "documents",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    collection: text("collection").notNull().default("default"),
    title: text("title").notNull(),
    filename: text("filename"),
    contentType: text("content_type"),
    sizeBytes: integer("size_bytes"),
    /** Where the original bytes are in the blob store (null for posted text). */
    blobKey: text("blob_key"),
    source: text("source", { enum: ["upload", "text", "json"] }).notNull(),
    status: text("status", { enum: ["uploading", "queued", "processing", "ready", "failed"] }).notNull(),
    failureReason: text("failure_reason"),
    chunkCount: integer("chunk_count").notNull().default(0),
    /** Chunks the model embedded from their start only (longer than its input window); see ingest-job. */
    truncatedChunks: integer("truncated_chunks").notNull().default(0),
    chunkSize: integer("chunk_size").notNull(),
    chunkOverlap: integer("chunk_overlap").notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index("documents_tenant_idx").on(table.tenantId, table.createdAt),
    index("documents_status_idx").on(table.tenantId, table.status),
  ],
);

/** One chunk of a document; its id (`<document id>:<index>`) is also its id in Chroma, so re-runs upsert. */
export const chunks = pgTable(
  "chunks",
  {
    id: text("id").primaryKey(),
    documentId: text("document_id")
      .notNull()
      .references(() => documents.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").notNull(),
    index: integer("index").notNull(),
    text: text("text").notNull(),
    tokenCount: integer("token_count").notNull(),
    page: integer("page"),
    heading: text("heading"),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("chunks_document_index_idx").on(table.documentId, table.index)],
);

/**
 * Durable background jobs (ingestion first). Workers claim a job with a lease; a worker that
 * dies lets the lease lapse and another picks the job up. Retries back off; after
 * `maxAttempts` the job is `dead` (the dead-letter state) with its last error.
 */
export const jobs = pgTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull().default({}),
    status: text("status", { enum: ["queued", "running", "succeeded", "failed", "dead"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(5),
    runAfter: timestamp("run_after", { withTimezone: true }).notNull().defaultNow(),
    lockedBy: text("locked_by"),
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    progressDone: integer("progress_done").notNull().default(0),
    progressTotal: integer("progress_total").notNull().default(0),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /** When a worker last claimed it: which tenant was served last, for fair turns. */
    claimedAt: timestamp("claimed_at", { withTimezone: true }),
  },
  (table) => [
    index("jobs_claim_idx").on(table.status, table.runAfter),
    index("jobs_tenant_idx").on(table.tenantId, table.createdAt),
    // The claim's fairness looks up, per tenant, its running jobs and its latest claim.
    index("jobs_tenant_running_idx").on(table.tenantId).where(sql`status = 'running'`),
    index("jobs_tenant_claimed_idx").on(table.tenantId, table.claimedAt),
    // A document's ingestion jobs, newest first (its progress, its latest job): by the payload's
    // documentId, which the queries compare as `payload->>'documentId'`.
    index("jobs_kind_document_idx").on(table.kind, sql`(${table.payload}->>'documentId')`, table.createdAt),
  ],
);

/** A conversation with a tenant's documents (console playground, widget visitor, API caller). */
export const chatSessions = pgTable(
  "chat_sessions",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    /** Who opened it: a user, key, or widget visitor id. */
    createdBy: text("created_by"),
    /** Set for a widget visitor's conversation: the widget and the visitor's own random id. */
    widgetId: text("widget_id").references(() => widgets.id, { onDelete: "cascade" }),
    visitorId: text("visitor_id"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index("chat_sessions_tenant_idx").on(table.tenantId, table.updatedAt),
    index("chat_sessions_visitor_idx").on(table.widgetId, table.visitorId),
  ],
);

export const chatMessages = pgTable(
  "chat_messages",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => chatSessions.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").notNull(),
    role: text("role", { enum: ["user", "assistant"] }).notNull(),
    content: text("content").notNull(),
    /** For answers: the numbered sources `[n]` in `content` refers to. */
    citations: jsonb("citations").$type<Record<string, unknown>[]>().notNull().default([]),
    /** For answers: `llm` (generated) or `extractive` (built from the passages, no LLM configured). */
    mode: text("mode", { enum: ["llm", "extractive"] }),
    createdAt: createdAt(),
  },
  (table) => [index("chat_messages_session_idx").on(table.sessionId, table.createdAt)],
);

/** A tenant's embeddable chat widget (see `@vdb/schemas/widgets`). */
export const widgets = pgTable(
  "widgets",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    allowedOrigins: jsonb("allowed_origins").$type<string[]>().notNull().default([]),
    theme: jsonb("theme").$type<Record<string, unknown>>().notNull(),
    collection: text("collection").notNull().default("default"),
    enabled: boolean("enabled").notNull().default(true),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("widgets_tenant_idx").on(table.tenantId, table.createdAt)],
);

/**
 * A named database (seed 004): a collection created with its own embedding model and chunking,
 * which every document ingested into it uses.
 */
export const databases = pgTable(
  "databases",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** The collection's name in the tenant's instance. */
    name: text("name").notNull(),
    model: text("model").notNull(),
    dimension: integer("dimension").notNull(),
    chunkSize: integer("chunk_size").notNull(),
    chunkOverlap: integer("chunk_overlap").notNull(),
    /** Its queries' search mode unless they name one: vector | keyword | hybrid. */
    searchMode: text("search_mode").$type<SearchMode>().notNull().default("hybrid"),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("databases_tenant_name_idx").on(table.tenantId, table.name)],
);

/**
 * A tenant's backups (and imported exports). The snapshot itself is in the blob store under
 * `tenants/<tenantId>/backups/<id>/`; its `manifest.json` is written last, and only then is the
 * row `completed`: an interrupted backup is never listed as complete.
 */
export const backups = pgTable(
  "backups",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    source: text("source", { enum: ["backup", "scheduled", "import"] }).notNull(),
    status: text("status", { enum: ["running", "completed", "failed"] }).notNull(),
    jobId: text("job_id"),
    sizeBytes: bigint("size_bytes", { mode: "number" }),
    counts: jsonb("counts")
      .$type<{ collections: number; records: number; documents: number; chunks: number }>()
      .notNull()
      .default({ collections: 0, records: 0, documents: 0, chunks: 0 }),
    failureReason: text("failure_reason"),
    createdAt: createdAt(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    /**
     * A scheduled backup's slot: the time it fell due (its tenant's previous scheduled backup, or
     * creation, plus the plan's period); null for the others. Unique per tenant, so control planes
     * running the schedule side by side start exactly one backup per slot.
     */
    scheduleSlot: timestamp("schedule_slot", { withTimezone: true }),
  },
  (table) => [
    index("backups_tenant_idx").on(table.tenantId, table.createdAt),
    uniqueIndex("backups_schedule_slot_idx").on(table.tenantId, table.scheduleSlot),
  ],
);
