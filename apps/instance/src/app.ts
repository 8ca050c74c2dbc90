import { OpenAPIHono } from "@hono/zod-openapi";
import type { EmbeddingProvider } from "@vdb/embeddings/provider";
import { answerErrorsAsJson, limitBodySize, serveApiDocs } from "@vdb/http/app-defaults";
import { rejectUncleanInput } from "@vdb/http/input-hygiene";
import { requestContext } from "@vdb/http/request-context";
import { TokenBuckets } from "@vdb/http/token-buckets";
import { CHROMA_NAMESPACE } from "@vdb/schemas/chroma-api";
import { INSTANCE_MAX_BODY_BYTES, MAX_BATCH } from "@vdb/schemas/instances";
import { LRUCache } from "lru-cache";
import { RevokedKeys, revokedKeysUrl } from "./auth/revoked-keys";
import { createTokenVerifier, type TokenVerifier } from "./auth/token-verifier";
import { chromaPassthrough } from "./chroma-api/passthrough";
import { answerUnavailableWhileChromaRestarts } from "./chroma-availability";
import { chromaClientFor } from "./collections/chroma-collections";
import { createProviderRegistry } from "./collections/providers";
import { collectionsRest } from "./collections/rest";
import { type InstanceConfig, servesOf } from "./config";
import { documentsRest } from "./documents/rest";
import { createRowCache } from "./documents/row-cache";
import { createSearchPhaseLog } from "./documents/search-phases";
import { healthRest } from "./health/rest";
import type { InstanceEnv } from "./http/env";
import { createKeywordIndexes } from "./keyword/keyword-indexes";
import { createLogger, type Logger } from "./logger";
import { purgeTenantRest } from "./pool/purge-tenant";
import { OPEN_GATE } from "./pool/tenant-gate";
import { createTenantScopes } from "./pool/tenant-scopes";
import { createWriteLock, type InstanceServices } from "./services";

const API_DESCRIPTION = `One tenant's vector store. Authenticate with \`Authorization: Bearer <instance token>\`
(an ES256 JWT from the control plane, audience \`vdb:instance:<tenant id>\`, scopes read / write / admin).
Batches take up to ${MAX_BATCH} documents.

Long texts: a model reads a bounded number of tokens of each text (use-lite: the first 128 tokens, about
400-500 characters of English; it ignores the rest). A longer document is accepted and stored whole, its vector
computed from its first 128 tokens, and \`/embed\` lists its id in \`truncated\`; a longer search query is embedded
the same way and the answer says \`queryTruncated: true\`. Split texts into chunks under that size to have all of
them embedded (the control plane's ingestion does this for uploaded files).

Models that compute on the CPU (use-lite) run in worker threads (EMBED_WORKERS, one per core by default):
/healthz and other requests answer while a batch is embedded, and a search's query is embedded before the
remaining parts of earlier batches. Every error is \`{ "error": { "code", "message", "requestId" } }\` with one
code of: BAD_REQUEST, VALIDATION_FAILED (with per-field \`issues\`), UNAUTHORIZED, FORBIDDEN, NOT_FOUND,
METHOD_NOT_ALLOWED, CONFLICT, PAYLOAD_TOO_LARGE, QUOTA_EXCEEDED, RATE_LIMITED, INTERNAL, SERVICE_UNAVAILABLE,
STORAGE_FULL (507: a disk is full; an operator must free space).`;

export interface InstanceAppOptions {
  config: InstanceConfig;
  /** The tenant's Chroma server (its own `chroma run` or CHROMA_URL). */
  chromaUrl: string;
  provider: EmbeddingProvider;
  /** Token verification; default: the control plane's JWKS at `config.JWKS_URL`. */
  verifier?: TokenVerifier;
  logger?: Logger;
  maxBodyBytes?: number;
  /** Whether Chroma can answer now (false while the instance restarts its own); default: always. */
  isChromaAvailable?: () => boolean;
  /** The data directory of the Chroma the instance runs itself (none with CHROMA_URL). */
  chromaDataDir?: string;
}

/** Tenants whose revoked-key lists an instance keeps (a pool's are up to POOL_TENANTS_MAX, 500 by default). */
const REVOKED_LISTS_KEPT = 10_000;

/**
 * One tenant's instance as a Hono app: `/embed`, `/search`, `/delete`, `/collections`, behind
 * instance tokens; `/healthz`, `/openapi.json` and `/docs` open.
 *
 * @example
 * const app = createInstanceApp({ config, chromaUrl: "http://127.0.0.1:8000", provider });
 * serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST });
 */
export function createInstanceApp(opts: InstanceAppOptions) {
  const { config } = opts;
  const serves = servesOf(config);
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL, config.TENANT_ID ?? config.POOL_ID);
  // One list of revoked keys per tenant served (a pool's tenants each have theirs), bounded: a
  // pool meets every tenant it ever served. One dropped is fetched again at its tenant's next
  // request, as one older than a few REVOCATION_REFRESH_MS is anyway.
  const revokedKeysByTenant = new LRUCache<string, RevokedKeys>({ max: REVOKED_LISTS_KEPT });
  const revokedKeys = (tenantId: string): RevokedKeys => {
    let found = revokedKeysByTenant.get(tenantId);
    if (!found) {
      found = new RevokedKeys({
        url: revokedKeysUrl(config.JWKS_URL, tenantId),
        refreshMs: config.REVOCATION_REFRESH_MS,
        logger,
      });
      revokedKeysByTenant.set(tenantId, found);
    }
    return found;
  };
  const chromaUrl = opts.chromaUrl.replace(/\/$/, "");
  const writeLock = createWriteLock();
  const services: InstanceServices = {
    config,
    chroma: chromaClientFor(opts.chromaUrl),
    chromaUrl,
    chromaDataDir: opts.chromaDataDir ?? null,
    chromaNamespace: CHROMA_NAMESPACE,
    gate: OPEN_GATE,
    ownsCollection: null,
    scopedTo: async () => services,
    poolTenants: null,
    provider: opts.provider,
    providers: createProviderRegistry({
      defaultProvider: opts.provider,
      openai: { apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL },
      workers: config.EMBED_WORKERS,
      bulkNiceness: config.EMBED_BULK_NICENESS,
    }),
    verifier:
      opts.verifier ??
      createTokenVerifier({
        jwksUrl: config.JWKS_URL,
        issuer: config.TOKEN_ISSUER,
        serves,
        isKeyRevoked: (keyId, tenantId) => revokedKeys(tenantId).isRevoked(keyId),
      }),
    areWritesPaused: (tenantId) => revokedKeys(tenantId).areWritesPaused(),
    logger,
    writeLock,
    keywordIndexes: createKeywordIndexes({ dataDir: config.DATA_DIR, chromaUrl, writeLock, logger }),
    rowCache: createRowCache({ maxBytes: config.ROW_CACHE_MB * 1024 * 1024 }),
    rateLimits: new TokenBuckets(),
    searchPhases: config.SEARCH_PHASES_FILE ? createSearchPhaseLog(config.SEARCH_PHASES_FILE) : null,
    startedAt: Date.now(),
    isChromaAvailable: opts.isChromaAvailable ?? (() => true),
  };
  if (serves.kind === "pool") {
    const tenants = createTenantScopes(services);
    services.scopedTo = tenants.scopedTo;
    services.poolTenants = tenants;
  }
  const maxBodyBytes = opts.maxBodyBytes ?? INSTANCE_MAX_BODY_BYTES;

  const app = new OpenAPIHono<InstanceEnv>();
  app.use(
    requestContext<InstanceEnv>({
      services,
      quietPaths: ["/healthz"],
      onStart: (c) => c.set("identity", null),
    }),
  );
  app.use(answerUnavailableWhileChromaRestarts());
  app.use(limitBodySize(maxBodyBytes));
  // Chroma's API streams its bodies on whole and checks them as they pass (see passthrough).
  app.use(rejectUncleanInput({ skipBody: (path) => path.startsWith("/chroma/") }));

  app.route("/", healthRest);
  app.route("/", documentsRest);
  app.route("/", collectionsRest);
  app.route("/", chromaPassthrough);
  if (serves.kind === "pool") app.route("/", purgeTenantRest);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: serves.kind === "pool" ? `VDB pool (${serves.poolId})` : `VDB instance (${serves.tenantId})`,
      version: "1",
      description: API_DESCRIPTION,
    },
  });
  serveApiDocs(app, "VDB instance API");

  answerErrorsAsJson(app, services.logger);
  /**
   * Saves what lives only in memory: keyword indexes written since their last snapshot (a pool's
   * loaded tenants' too). For a clean stop: the next start has nothing to rebuild from Chroma.
   */
  const saveState = async (): Promise<void> => {
    await services.keywordIndexes.close();
    await services.poolTenants?.close();
  };
  return Object.assign(app, { saveState });
}

export type InstanceApp = ReturnType<typeof createInstanceApp>;
