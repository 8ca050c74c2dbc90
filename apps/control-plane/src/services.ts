import { ApiKeyCache } from "./auth/api-key-cache";
import { LoginThrottle } from "./auth/login-throttle";
import { BACKUP_JOB, backupHandler } from "./backups/backup-job";
import { RESTORE_JOB, restoreHandler } from "./backups/restore-job";
import { BackupScheduler } from "./backups/schedule-backups";
import type { BlobStore } from "./blobs/blob-store";
import { createBlobStore } from "./blobs/create-blob-store";
import { DiskBlobStore } from "./blobs/disk-blob-store";
import { resolveUploadSecret } from "./blobs/upload-secret";
import type { Config } from "./config";
import { InstanceClient } from "./data-plane/instance-client";
import { INGEST_JOB, ingestHandler } from "./documents/ingest-job";
import { ParseSandbox } from "./documents/parsing/parse-sandbox";
import { reconcileIngestions } from "./documents/reconcile-ingestions";
import { createRuntime } from "./instances/create-runtime";
import { InstanceActivity } from "./instances/instance-activity";
import { Reconciler } from "./instances/reconciler";
import type { InstanceRuntime } from "./instances/runtime";
import { exponentialBackoff, JobQueue } from "./jobs/job-queue";
import { TENANT_INSTANCE_RUNNING } from "./jobs/tenant-instance-running";
import { prepareDataDir, tightenDataDir } from "./lib/data-dir";
import { type Database, openStore, type Store } from "./lib/db/client";
import { createLogger, type Logger } from "./lib/logger";
import { resolveMasterKeys } from "./lib/master-key";
import { createMetrics, type Metrics } from "./lib/metrics";
import { TIER_MOVE_JOB, tierMoveHandler } from "./tenants/tier-move-job";
import { SigningKeyStore } from "./tokens/signing-keys";
import { type KeyRateLimiter, keyRateLimiter, TokenBuckets } from "./usage/rate-limit";
import { UsageRecorder } from "./usage/record-usage";

/** Everything long-lived the control plane holds; built once at start, closed once at stop. */
export interface Services {
  config: Config;
  logger: Logger;
  /** The services' clock (`Date.now`; a test may move it forward instead of waiting). */
  now: () => number;
  store: Store;
  db: Database;
  apiKeys: ApiKeyCache;
  signingKeys: SigningKeyStore;
  metrics: Metrics;
  runtime: InstanceRuntime;
  reconciler: Reconciler;
  /** Each tenant's last data-plane activity (what idle instances are put to sleep by). */
  activity: InstanceActivity;
  /** The one way to call a tenant's instance (location, wake, token, rate limit). */
  instances: InstanceClient;
  /**
   * The one request-rate limiter of every transport (REST middleware, tRPC context, Chroma
   * gateway, the instance client's per-tenant check): API keys and tenants at their plan's rate,
   * console sessions at their own; plans cached 5 s. Per process (see TokenBuckets). Its
   * buckets are `rateBuckets`.
   */
  rateLimits: KeyRateLimiter;
  /**
   * This process's request buckets, on the services' clock: API keys', tenants' and console
   * sessions' (through `rateLimits`), widgets' and their visitors' (`limitWidgetRequest`).
   */
  rateBuckets: TokenBuckets;
  blobs: BlobStore;
  /** Durable background jobs; this process works them when RUN_WORKER (see worker.ts otherwise). */
  jobs: JobQueue;
  /** Child processes that parse and chunk uploads under a deadline and memory cap, fairly by tenant. */
  parser: ParseSandbox;
  /** Buffered usage metering for hot paths (search); flushed every second and on close. */
  usage: UsageRecorder;
  /** The plans' scheduled backups (run every minute where RUN_WORKER; `runOnce` for a pass now). */
  backupSchedule: BackupScheduler;
  /** Failed-login budgets per email and per client address, kept in the store. */
  loginThrottle: LoginThrottle;
  /** Signs the disk store's upload URLs (also checked by the upload route). */
  uploadSecret: string;
  /**
   * Stops everything this process runs. Local instances are stopped too when `stopInstances`
   * (default: unless STOP_INSTANCES_ON_EXIT is `false`); otherwise they keep running and the
   * next control plane re-adopts them.
   */
  close(opts?: { stopInstances?: boolean }): Promise<void>;
}

/** How often a worker re-checks documents against their jobs (and retries removing failed ones' chunks). */
const INGESTION_RECONCILE_MS = 30_000;

/**
 * Whether stopping on `signal` stops the local instances too: Ctrl-C (SIGINT) stops the
 * platform; SIGTERM, a supervisor's stop or restart, leaves them for the next control plane.
 */
export function stopsInstancesOn(config: Config, signal: NodeJS.Signals): boolean {
  if (config.STOP_INSTANCES_ON_EXIT === "auto") return signal !== "SIGTERM";
  return config.STOP_INSTANCES_ON_EXIT === "true";
}

export async function createServices(
  config: Config,
  opts: {
    logger?: Logger;
    now?: () => number;
  } = {},
): Promise<Services> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  // The services' clock as an options field, for the parts that take one (`{}`: `Date.now`).
  const clock = opts.now ? { now: opts.now } : {};
  prepareDataDir(config.DATA_DIR);
  // Opened (and, on PGlite, DATA_DIR locked) before anything is written into DATA_DIR, such as a
  // generated master key: a process refused the directory leaves it untouched.
  const store = await openStore({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    pgliteSharedBuffers: config.PGLITE_SHARED_BUFFERS,
  });
  const apiKeys = new ApiKeyCache(store.db, logger, {
    ttlMs: config.API_KEY_CACHE_TTL_SECONDS * 1000,
    pollMs: config.AUTH_POLL_INTERVAL_MS,
    ...clock,
  });
  let signingKeys: SigningKeyStore;
  try {
    signingKeys = new SigningKeyStore(store.db, await resolveMasterKeys(config));
    await signingKeys.sealPrivateKeys(logger);
    await signingKeys.ensureActiveKey();
  } catch (error) {
    await store.close(); // a wrong master key stops the start: let the store go with it
    throw error;
  }
  apiKeys.start();
  const uploadSecret = resolveUploadSecret(config);
  // After the store and the secrets exist: PGlite's first start unpacks files world-readable.
  tightenDataDir(config.DATA_DIR, logger);
  const blobs = createBlobStore({
    dataDir: config.DATA_DIR,
    publicUrl: config.publicUrl,
    uploadSecret,
    s3: {
      bucket: config.S3_BUCKET,
      region: config.S3_REGION,
      endpoint: config.S3_ENDPOINT,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      accessKeyId: config.S3_ACCESS_KEY_ID,
      secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    },
  });
  if (blobs instanceof DiskBlobStore) {
    // Leftovers of uploads cut off by a kill: nothing will ever finish or remove them.
    blobs
      .removeOrphanedTempFiles()
      .then((removed) => {
        if (removed > 0) logger.info({ removed }, "removed temp files of interrupted uploads");
      })
      .catch((error: unknown) => logger.warn({ err: error }, "could not clean the blob folder's temp files"));
  }
  const jobs = new JobQueue({
    db: store.db,
    logger,
    leaseMs: config.JOB_LEASE_MS,
    backoff: exponentialBackoff({ baseMs: config.JOB_RETRY_BASE_MS }),
    claimableWhen: TENANT_INSTANCE_RUNNING,
  });
  const parser = new ParseSandbox({
    workers: config.PARSE_WORKERS,
    workersPerTenant: config.PARSE_WORKERS_PER_TENANT ?? Math.ceil(config.PARSE_WORKERS / 2),
    timeoutMs: config.PARSE_TIMEOUT_MS,
    memoryMb: config.PARSE_MEMORY_MB,
    maxPdfPages: config.PARSE_MAX_PDF_PAGES,
    logger,
  });
  const usage = new UsageRecorder({ db: store.db, logger });
  usage.start();
  const runtime = await createRuntime(config, logger);
  const activity = new InstanceActivity(store.db, logger, opts.now);
  activity.start();
  const reconciler = new Reconciler(store, runtime, config, logger, {
    activity,
    ...clock,
  });
  reconciler.start();
  // A tenant's jobs wait while its instance is down: take them up the moment it runs again.
  reconciler.on("change", (instance) => {
    if (instance.state === "running") jobs.nudge();
  });
  let ingestionReconcileTimer: NodeJS.Timeout | null = null;
  const backupSchedule = new BackupScheduler({ db: store.db, jobs, blobs }, logger, opts.now);
  const rateBuckets = new TokenBuckets(clock);
  const services: Services = {
    config,
    logger,
    now: opts.now ?? Date.now,
    store,
    db: store.db,
    apiKeys,
    signingKeys,
    metrics: createMetrics(),
    runtime,
    reconciler,
    activity,
    instances: new InstanceClient(reconciler),
    rateLimits: keyRateLimiter({ buckets: rateBuckets, ...clock }),
    rateBuckets,
    blobs,
    uploadSecret,
    loginThrottle: new LoginThrottle(store.db, {
      perAccount: config.LOGIN_ATTEMPTS_PER_ACCOUNT,
      perAddress: config.LOGIN_ATTEMPTS_PER_ADDRESS,
      windowSeconds: config.LOGIN_THROTTLE_WINDOW_SECONDS,
      ...clock,
    }),
    jobs,
    parser,
    usage,
    backupSchedule,
    async close({ stopInstances = config.STOP_INSTANCES_ON_EXIT !== "false" } = {}) {
      if (ingestionReconcileTimer) clearInterval(ingestionReconcileTimer);
      await backupSchedule.stop();
      // Running jobs get the grace period, then go back to the queue (resumed after a restart).
      await jobs.stop(config.SHUTDOWN_GRACE_MS);
      await parser.close();
      await reconciler.stop();
      await activity.stop();
      if (runtime.kind === "local" && stopInstances) await reconciler.stopAll();
      await apiKeys.stop();
      await usage.stop();
      await store.close();
    },
  };
  jobs.register(INGEST_JOB, ingestHandler(services));
  jobs.register(BACKUP_JOB, backupHandler(services));
  jobs.register(RESTORE_JOB, restoreHandler(services));
  jobs.register(TIER_MOVE_JOB, tierMoveHandler(services));
  if (config.RUN_WORKER) {
    const reconcile = (scope: Parameters<typeof reconcileIngestions>[1]) =>
      reconcileIngestions(services, scope).catch((error: unknown) =>
        logger.error({ err: error }, "reconciling documents with their ingestion jobs failed"),
      );
    // A job the lease sweep dead-lettered never ran the handler's failure path: fail its document.
    jobs.on("finished", (job) => {
      if (job.kind === INGEST_JOB && job.status !== "succeeded")
        void reconcile({ documentId: String(job.payload.documentId) });
    });
    await reconcile({ reviveOutageDeadLetters: true });
    ingestionReconcileTimer = setInterval(() => void reconcile({}), INGESTION_RECONCILE_MS);
    ingestionReconcileTimer.unref();
    backupSchedule.start();
    jobs.start(config.WORKER_CONCURRENCY);
  }
  return services;
}
