import path from "node:path";
import { AppError } from "@vdb/http/errors";
import { TokenBuckets } from "@vdb/http/token-buckets";
import { ChromaClient } from "chromadb";
import { listAllCollections } from "../collections/chroma-collections";
import { createKeywordIndexes } from "../keyword/keyword-indexes";
import { createWriteLock, type InstanceServices } from "../services";
import { createTenantGate } from "./tenant-gate";

/** The Chroma database every pool tenant's records live in, inside its own Chroma tenant. */
export const POOL_DATABASE = "default_database";

/** Chroma's API prefix for a pool tenant's namespace. */
export function poolNamespace(tenantId: string): string {
  return `/api/v2/tenants/${encodeURIComponent(tenantId)}/databases/${POOL_DATABASE}`;
}

/**
 * A pool's view of one tenant: the pool's services with everything that holds or reaches data
 * narrowed to the tenant's own Chroma namespace (its Chroma tenant, named by its VDB tenant id):
 * a Chroma client bound to it, its own keyword indexes directory, write lock (MAX_DOCS counts
 * its documents only), rate limits and request gate. Made on the tenant's first request, the
 * namespace created in Chroma then if it is new.
 */
export function createTenantScopes(pool: InstanceServices): (tenantId: string) => Promise<InstanceServices> {
  const scopes = new Map<string, Promise<InstanceServices>>();
  const chromaUrl = new URL(pool.chromaUrl);
  const scope = async (tenantId: string): Promise<InstanceServices> => {
    await ensureNamespace(pool.chromaUrl, tenantId);
    const writeLock = createWriteLock();
    const chroma = new ChromaClient({
      host: chromaUrl.hostname,
      port: Number(chromaUrl.port || (chromaUrl.protocol === "https:" ? 443 : 80)),
      ssl: chromaUrl.protocol === "https:",
      tenant: tenantId,
      database: POOL_DATABASE,
    });
    const logger = pool.logger.child({ tenantId });
    const tenant: InstanceServices = {
      ...pool,
      config: { ...pool.config, TENANT_ID: tenantId },
      chroma,
      chromaNamespace: poolNamespace(tenantId),
      logger,
      writeLock,
      keywordIndexes: createKeywordIndexes({
        dataDir: path.join(pool.config.DATA_DIR, "tenants", tenantId),
        chromaUrl: pool.chromaUrl,
        writeLock,
        logger,
      }),
      rateLimits: new TokenBuckets(),
      gate: createTenantGate({
        concurrency: pool.config.POOL_TENANT_CONCURRENCY,
        queue: pool.config.POOL_TENANT_QUEUE,
      }),
      ownsCollection: collectionOwnership(chroma),
      scopedTo: async (other) => {
        if (other !== tenantId)
          throw new AppError({ code: "FORBIDDEN", message: "Not this tenant's namespace" });
        return tenant;
      },
    };
    return tenant;
  };
  return (tenantId) => {
    let found = scopes.get(tenantId);
    if (!found) {
      found = scope(tenantId);
      scopes.set(tenantId, found);
      // A failed set-up (Chroma restarting) is tried again by the next request.
      found.catch(() => scopes.delete(tenantId));
    }
    return found;
  };
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
