import type { InstanceHealth } from "@vdb/schemas/instances";
import { countAllDocuments } from "../collections/chroma-collections";
import { poolHnswCacheCapacity } from "../config";
import type { InstanceServices } from "../services";

const CHROMA_CHECK_TIMEOUT_MS = 3_000;

// The server's version never changes while it runs: asked once.
const versions = new WeakMap<InstanceServices, string>();

/**
 * Whether the instance's Chroma answers a heartbeat: all an anonymous health check (a supervisor's
 * probe, a load balancer's) is told, so all it costs.
 */
export async function chromaAnswers(ctx: InstanceServices): Promise<boolean> {
  // Restarting after a crash: nothing listens on its port yet, no need to ask.
  if (!ctx.isChromaAvailable()) return false;
  try {
    await withTimeout(ctx.chroma.heartbeat(), CHROMA_CHECK_TIMEOUT_MS);
    return true;
  } catch (error) {
    ctx.logger.warn({ err: error }, "health check: Chroma is not answering");
    return false;
  }
}

/** The instance's configuration and whether its Chroma answers; `degraded` when it does not. */
export async function getHealth({
  ctx,
  pool,
  rowCache,
}: {
  ctx: InstanceServices;
  /** A pool's memory figures (see poolFigures), for the control plane's tokens only. */
  pool?: InstanceHealth["pool"];
  /** The row cache's figures (`rowCache.stats()`), when the caller may see them. */
  rowCache?: InstanceHealth["rowCache"];
}): Promise<InstanceHealth> {
  const { config, provider } = ctx;
  let chroma: InstanceHealth["chroma"] = { heartbeat: false, version: null };
  let counts: InstanceHealth["counts"] = { collections: 0, documents: 0 };
  if (await chromaAnswers(ctx)) {
    try {
      const version = versions.get(ctx) ?? (await withTimeout(ctx.chroma.version(), CHROMA_CHECK_TIMEOUT_MS));
      versions.set(ctx, version);
      chroma = { heartbeat: true, version };
      counts = await withTimeout(countAllDocuments(ctx.chroma), CHROMA_CHECK_TIMEOUT_MS);
    } catch (error) {
      ctx.logger.warn({ err: error }, "health check: Chroma is not answering");
    }
  }
  return {
    status: chroma.heartbeat ? "ok" : "degraded",
    // Unset only on a pool asked without a token, whose answer shows just the status.
    tenantId: config.TENANT_ID ?? "",
    plan: config.PLAN,
    model: provider.name,
    dimension: provider.dimension,
    models: ctx.providers.available(),
    maxDocs: config.MAX_DOCS,
    chroma,
    counts,
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 100) / 10,
    ...(rowCache ? { rowCache } : {}),
    ...(pool ? { pool } : {}),
  };
}

/** A pool's memory bounds and how many tenants are loaded; undefined on a dedicated instance. */
export function poolFigures(services: InstanceServices): InstanceHealth["pool"] {
  const { config, poolTenants } = services;
  if (!poolTenants) return undefined;
  return {
    loadedTenants: poolTenants.loaded(),
    maxLoadedTenants: config.POOL_MAX_LOADED_TENANTS,
    tenantIdleMs: config.POOL_TENANT_IDLE_MS,
    chromaHnswCache: config.CHROMA_URL ? null : poolHnswCacheCapacity(config),
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
