import type { EmbeddingProvider } from "@vdb/embeddings/provider";
import type { TokenBuckets } from "@vdb/http/token-buckets";
import type { ChromaClient } from "chromadb";
import type { TokenVerifier } from "./auth/token-verifier";
import type { ProviderRegistry } from "./collections/providers";
import type { InstanceConfig } from "./config";
import type { RowCache } from "./documents/row-cache";
import type { SearchPhaseLog } from "./documents/search-phases";
import type { KeywordIndexes } from "./keyword/keyword-indexes";
import type { Logger } from "./logger";
import type { TenantGate } from "./pool/tenant-gate";
import type { TenantScopes } from "./pool/tenant-scopes";

/** Everything a request handler or verb of the instance may use. */
export interface InstanceServices {
  config: InstanceConfig;
  chroma: ChromaClient;
  /** Base URL of the same Chroma, for the raw passthrough. */
  chromaUrl: string;
  /** The directory of the Chroma this instance runs (its files), null for one it does not. */
  chromaDataDir: string | null;
  /**
   * Chroma's API prefix of the caller's namespace: `default_tenant/default_database` on a
   * dedicated instance, the tenant's own on a pool (see pool/tenant-scopes).
   */
  chromaNamespace: string;
  /** Pool mode: the tenant's share of the pool's request slots; open on a dedicated instance. */
  gate: TenantGate;
  /**
   * Pool mode: whether a collection id or name in a Chroma path is the caller's own (Chroma does
   * not check ids against the path's namespace). Null on a dedicated instance: all are its own.
   */
  ownsCollection: ((idOrName: string) => Promise<boolean>) | null;
  /**
   * These services narrowed to a verified caller's tenant: the same on a dedicated instance, the
   * tenant's own namespace, locks and limits on a pool. Handlers see the result (requireScope).
   */
  scopedTo: (tenantId: string) => Promise<InstanceServices>;
  /** Pool mode: its tenants' in-memory state (how many are loaded); null on a dedicated instance. */
  poolTenants: TenantScopes | null;
  /** The instance's default model (`MODEL_NAME`): new collections use it unless told otherwise. */
  provider: EmbeddingProvider;
  /** Every model a collection here may use, the default included. */
  providers: ProviderRegistry;
  verifier: TokenVerifier;
  /**
   * Whether a tenant's writes are paused while it moves between tiers, as the control plane
   * publishes it beside the tenant's revoked keys: direct callers' writes then wait (requireScope).
   */
  areWritesPaused: (tenantId: string) => Promise<boolean>;
  /** The tenant's request budget for callers other than the control plane (see requireScope). */
  rateLimits: TokenBuckets;
  logger: Logger;
  /** Serialises writes, so the MAX_DOCS check and the write it guards cannot interleave. */
  writeLock: WriteLock;
  /** Each collection's BM25 index, kept in step with Chroma by every write path. */
  keywordIndexes: KeywordIndexes;
  /** Records' documents and metadatas read by searches, valid until their namespace's next write. */
  rowCache: RowCache;
  /** Where searches record their phase timings (SEARCH_PHASES_FILE); null when not measuring. */
  searchPhases: SearchPhaseLog | null;
  startedAt: number;
  /**
   * False while the instance's own Chroma is being restarted after a crash (or could not be):
   * requests are answered 503 with Retry-After at once instead of waiting on a dead port.
   */
  isChromaAvailable: () => boolean;
}

export interface WriteLock {
  run<T>(work: () => Promise<T>): Promise<T>;
  /**
   * What was written so far, as a number that changes whenever a write starts or ends (unique in
   * the process, never reused by another lock); null while a write runs. A read taken between
   * two equal versions saw no write (the row cache keeps only such reads).
   */
  version(): number | null;
}

/** Versions of every write lock in the process: a lock made again (a pool tenant reloaded) never repeats one. */
let lastVersion = 0;

/**
 * One write at a time. The instance is the only writer of its Chroma, so an in-process queue is
 * enough to make "count, check quota, write" atomic; reads never wait.
 */
export function createWriteLock(): WriteLock {
  let tail: Promise<unknown> = Promise.resolve();
  let version = ++lastVersion;
  let isWriting = false;
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    isWriting = true;
    version = ++lastVersion;
    try {
      return await work();
    } finally {
      isWriting = false;
      version = ++lastVersion;
    }
  };
  return {
    run<T>(work: () => Promise<T>): Promise<T> {
      const next = () => guarded(work);
      const result = tail.then(next, next);
      tail = result.catch(() => undefined);
      return result;
    },
    version: () => (isWriting ? null : version),
  };
}
