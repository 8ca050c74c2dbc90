import path from "node:path";
import { AppError } from "@vdb/http/errors";
import { TokenBuckets } from "@vdb/http/token-buckets";
import { ChromaClient } from "chromadb";
import { listAllCollections, POOL_HNSW_SYNC_THRESHOLD } from "../collections/chroma-collections";
import { createKeywordIndexes } from "../keyword/keyword-indexes";
import { createWriteLock, type InstanceServices } from "../services";
import { createTenantGate } from "./tenant-gate";

/** The Chroma database every pool tenant's records live in, inside its own Chroma tenant. */
export const POOL_DATABASE = "default_database";

/** Chroma's API prefix for a pool tenant's namespace. */
export function poolNamespace(tenantId: string): string {
  return `/api/v2/tenants/${encodeURIComponent(tenantId)}/databases/${POOL_DATABASE}`;
}

/** A pool's tenants' in-memory state, made on demand and dropped again when idle. */
export interface TenantScopes {
  /** The tenant's services (see createTenantScopes); a request holds them through its gate. */
  scopedTo(tenantId: string): Promise<InstanceServices>;
  /** How many tenants have their state in memory now. */
  loaded(): number;
  /** Drops the state of tenants idle past POOL_TENANT_IDLE_MS (also done on a timer). */
  evictIdle(): Promise<void>;
  /** Drops a tenant's state without saving anything (its data was just removed). */
  forget(tenantId: string): void;
  /** Stops the timer and saves every tenant's pending keyword snapshots. */
  close(): Promise<void>;
}

interface Usage {
  /** Requests inside the tenant's gate now: a tenant with any is never dropped. */
  inFlight: number;
  lastUsed: number;
}

interface Loaded {
  services: Promise<InstanceServices>;
  usage: Usage;
}

/**
 * A pool's view of each tenant: the pool's services with everything that holds or reaches data
 * narrowed to the tenant's own Chroma namespace (its Chroma tenant, named by its VDB tenant id):
 * a Chroma client bound to it, its own keyword indexes directory, write lock (MAX_DOCS counts
 * its documents only), rate limits and request gate. Made on the tenant's first request, the
 * namespace created in Chroma then if it is new.
 *
 * Bounded memory: a tenant with no request in flight for POOL_TENANT_IDLE_MS is dropped (its
 * keyword indexes saved first), and so is the least recently used idle one whenever more than
 * POOL_MAX_LOADED_TENANTS are loaded; its next request loads it again from disk. (Chroma's
 * HNSW indexes are bounded by Chroma itself: POOL_CHROMA_INDEX_MEMORY_MB.)
 */
export function createTenantScopes(pool: InstanceServices): TenantScopes {
  const { POOL_MAX_LOADED_TENANTS: maxLoaded, POOL_TENANT_IDLE_MS: idleMs } = pool.config;
  // Map order is use order: a use moves its tenant to the end.
  const loaded = new Map<string, Loaded>();
  // A dropped tenant's keyword snapshots being saved: its next scope waits for them.
  const dropping = new Map<string, Promise<void>>();
  const chromaUrl = new URL(pool.chromaUrl);

  const scope = async (tenantId: string, usage: Usage): Promise<InstanceServices> => {
    await dropping.get(tenantId);
    await ensureNamespace(pool.chromaUrl, tenantId);
    const writeLock = createWriteLock();
    const chroma = new ChromaClient({
      host: chromaUrl.hostname,
      port: Number(chromaUrl.port || (chromaUrl.protocol === "https:" ? 443 : 80)),
      ssl: chromaUrl.protocol === "https:",
      tenant: tenantId,
      database: POOL_DATABASE,
    });
    await persistEveryWrite(chroma);
    const logger = pool.logger.child({ tenantId });
    const gate = createTenantGate({
      concurrency: pool.config.POOL_TENANT_CONCURRENCY,
      queue: pool.config.POOL_TENANT_QUEUE,
    });
    const tenant: InstanceServices = {
      ...pool,
      config: { ...pool.config, TENANT_ID: tenantId },
      chroma,
      chromaNamespace: poolNamespace(tenantId),
      logger,
      writeLock,
      keywordIndexes: createKeywordIndexes({
        dataDir: tenantDataDir(pool.config.DATA_DIR, tenantId),
        chromaUrl: pool.chromaUrl,
        writeLock,
        logger,
      }),
      rateLimits: new TokenBuckets(),
      gate: {
        async enter() {
          // Counted from the call on: a request waiting for a slot keeps its tenant loaded.
          usage.inFlight++;
          try {
            const leave = await gate.enter();
            let isLeft = false;
            return () => {
              if (isLeft) return;
              isLeft = true;
              leave();
              usage.inFlight--;
              usage.lastUsed = Date.now();
            };
          } catch (error) {
            usage.inFlight--;
            throw error;
          }
        },
      },
      ownsCollection: collectionOwnership(chroma),
      scopedTo: async (other) => {
        if (other !== tenantId)
          throw new AppError({ code: "FORBIDDEN", message: "Not this tenant's namespace" });
        return tenant;
      },
    };
    return tenant;
  };

  const drop = (tenantId: string, entry: Loaded): void => {
    loaded.delete(tenantId);
    const saved = entry.services
      .then((services) => services.keywordIndexes.close())
      .catch((error: unknown) =>
        pool.logger.error({ err: error, tenantId }, "could not save a dropped tenant's keyword indexes"),
      )
      .finally(() => {
        if (dropping.get(tenantId) === saved) dropping.delete(tenantId);
      });
    dropping.set(tenantId, saved);
  };

  /** Over the bound: drops the least recently used tenants with nothing in flight, `using` aside. */
  const trim = (using: string): void => {
    for (const [tenantId, entry] of loaded) {
      if (loaded.size <= maxLoaded) return;
      if (entry.usage.inFlight === 0 && tenantId !== using) drop(tenantId, entry);
    }
  };

  const evictIdle = async (): Promise<void> => {
    const now = Date.now();
    for (const [tenantId, entry] of loaded) {
      if (entry.usage.inFlight === 0 && now - entry.usage.lastUsed >= idleMs) drop(tenantId, entry);
    }
    await Promise.all(dropping.values());
  };

  const timer = setInterval(() => void evictIdle(), Math.min(Math.max(idleMs / 2, 1_000), 60_000));
  timer.unref();

  return {
    // The caller's next step (requireScope's gate.enter) follows in the same run of the event
    // loop as this promise settling: no timer or other request can drop the tenant in between.
    scopedTo(tenantId) {
      let entry = loaded.get(tenantId);
      if (entry) {
        loaded.delete(tenantId);
      } else {
        const usage: Usage = { inFlight: 0, lastUsed: Date.now() };
        const made: Loaded = { services: scope(tenantId, usage), usage };
        // A failed set-up (Chroma restarting) is tried again by the next request.
        made.services.catch(() => {
          if (loaded.get(tenantId) === made) loaded.delete(tenantId);
        });
        entry = made;
      }
      entry.usage.lastUsed = Date.now();
      loaded.set(tenantId, entry);
      trim(tenantId);
      return entry.services;
    },
    loaded: () => loaded.size,
    evictIdle,
    forget(tenantId) {
      loaded.delete(tenantId);
    },
    async close() {
      clearInterval(timer);
      for (const [tenantId, entry] of loaded) drop(tenantId, entry);
      await Promise.all(dropping.values());
    },
  };
}

/** Where a pool keeps a tenant's own files (its keyword indexes). */
export function tenantDataDir(poolDataDir: string, tenantId: string): string {
  return path.join(poolDataDir, "tenants", tenantId);
}

/**
 * Sets `hnsw.sync_threshold` to POOL_HNSW_SYNC_THRESHOLD on every collection of the tenant that
 * lacks it: collections made before pools bounded Chroma's index cache, or through Chroma's API
 * with a configuration of the caller's. Done before the tenant's first request reaches Chroma
 * after a start (nothing of it loaded yet: its next load replays Chroma's log and saves), and
 * after every collection create or change through Chroma's API.
 */
export async function persistEveryWrite(chroma: ChromaClient): Promise<void> {
  try {
    for (const collection of await listAllCollections(chroma)) {
      const hnsw = (collection.configuration as { hnsw?: { sync_threshold?: number | null } } | undefined)
        ?.hnsw;
      if (hnsw?.sync_threshold === POOL_HNSW_SYNC_THRESHOLD) continue;
      await collection.modify({ configuration: { hnsw: { sync_threshold: POOL_HNSW_SYNC_THRESHOLD } } });
    }
  } catch (error) {
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The pool's vector store could not set up this tenant's collections; retry shortly",
      cause: error,
    });
  }
}

/**
 * Whether a collection id (or name) in a Chroma API path is one of the tenant's own. Chroma 1.0
 * does not check that a collection named by id belongs to the tenant and database in the path:
 * without this, a pool tenant knowing a neighbour's collection id could read and write it.
 */
function collectionOwnership(chroma: ChromaClient): (idOrName: string) => Promise<boolean> {
  let known = new Set<string>();
  return async (idOrName) => {
    if (known.has(idOrName)) return true;
    const collections = await listAllCollections(chroma);
    known = new Set(collections.flatMap((collection) => [collection.id, collection.name]));
    return known.has(idOrName);
  };
}

/** Creates the tenant's Chroma tenant and database unless they exist. */
async function ensureNamespace(chromaUrl: string, tenantId: string): Promise<void> {
  await createIfMissing(
    `${chromaUrl}/api/v2/tenants/${encodeURIComponent(tenantId)}`,
    `${chromaUrl}/api/v2/tenants`,
    tenantId,
  );
  await createIfMissing(
    `${chromaUrl}${poolNamespace(tenantId)}`,
    `${chromaUrl}/api/v2/tenants/${encodeURIComponent(tenantId)}/databases`,
    POOL_DATABASE,
  );
}

async function createIfMissing(existing: string, create: string, name: string): Promise<void> {
  try {
    if ((await fetch(existing)).ok) return;
    const created = await fetch(create, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });
    // 409: another request of the same tenant created it meanwhile.
    if (created.ok || created.status === 409) return;
    throw new Error(`Chroma answered ${created.status}: ${await created.text()}`);
  } catch (error) {
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The pool's vector store could not set up this tenant's namespace; retry shortly",
      cause: error,
    });
  }
}
