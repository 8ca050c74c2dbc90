import { assertCompatible } from "@vdb/embeddings/create-provider";
import { EmbeddingMismatchError } from "@vdb/embeddings/errors";
import type { EmbeddingProvider } from "@vdb/embeddings/provider";
import { AppError } from "@vdb/http/errors";
import type { Collection as CollectionInfo } from "@vdb/schemas/instances";
import {
  ChromaClient,
  ChromaClientError,
  type Collection as ChromaCollection,
  ChromaConnectionError,
  ChromaNotFoundError,
  ChromaValueError,
} from "chromadb";

export type { ChromaCollection };

/** What a collection was created with, from the metadata this instance records on it. */
export interface CollectionModel {
  model: string;
  dimension: number;
}

/** Collection metadata written at creation: the provider's name and dimension. */
export function modelMetadata(provider: EmbeddingProvider): CollectionModel {
  return { model: provider.name, dimension: provider.dimension };
}

/**
 * The model a collection records. Collections made outside this instance (straight through
 * Chroma) have none: `unknown`, dimension 0, and only precomputed vectors may go into them.
 */
export function modelOf(collection: ChromaCollection): CollectionModel {
  const model = collection.metadata?.model;
  const dimension = collection.metadata?.dimension;
  return {
    model: typeof model === "string" ? model : "unknown",
    dimension: typeof dimension === "number" && Number.isInteger(dimension) ? dimension : 0,
  };
}

// Collection handles by name, kept briefly: every search would otherwise ask Chroma for the
// collection first (a round trip as long as the query itself on small collections).
const COLLECTION_TTL_MS = 5_000;
const collectionCaches = new WeakMap<
  ChromaClient,
  Map<string, { collection: ChromaCollection; at: number }>
>();

/** Forgets cached handles (after a collection is deleted or changed); all of them without a name. */
export function forgetCollection(chroma: ChromaClient, name?: string): void {
  const cache = collectionCaches.get(chroma);
  if (name === undefined) cache?.clear();
  else cache?.delete(name);
}

/** The named collection, or null when Chroma has none by that name. */
export async function findCollection(chroma: ChromaClient, name: string): Promise<ChromaCollection | null> {
  let cache = collectionCaches.get(chroma);
  if (!cache) {
    cache = new Map();
    collectionCaches.set(chroma, cache);
  }
  const hit = cache.get(name);
  if (hit && Date.now() - hit.at < COLLECTION_TTL_MS) return hit.collection;
  try {
    const collection = await chroma.getCollection({ name });
    cache.set(name, { collection, at: Date.now() });
    return collection;
  } catch (error) {
    if (error instanceof ChromaNotFoundError) return null;
    throw fromChromaError(error);
  }
}

export async function getCollectionOrThrow(chroma: ChromaClient, name: string): Promise<ChromaCollection> {
  const collection = await findCollection(chroma, name);
  if (!collection) throw new AppError({ code: "NOT_FOUND", message: `No collection named "${name}"` });
  return collection;
}

/** Every collection, all pages of Chroma's listing. */
export async function listAllCollections(chroma: ChromaClient): Promise<ChromaCollection[]> {
  const pageSize = 100;
  const all: ChromaCollection[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = await chroma.listCollections({ limit: pageSize, offset }).catch(rethrowChroma);
    all.push(...page);
    if (page.length < pageSize) return all;
  }
}

export async function describeCollection(collection: ChromaCollection): Promise<CollectionInfo> {
  const count = await collection.count().catch(rethrowChroma);
  return { name: collection.name, ...modelOf(collection), count };
}

/** Documents across every collection: what MAX_DOCS limits. */
export async function countAllDocuments(
  chroma: ChromaClient,
): Promise<{ collections: number; documents: number }> {
  const collections = await listAllCollections(chroma);
  let documents = 0;
  for (const collection of collections) documents += await collection.count().catch(rethrowChroma);
  return { collections: collections.length, documents };
}

/** Checks that text embedded by `provider` may go into (or be compared with) `collection`. */
export function assertProviderMatches(collection: ChromaCollection, provider: EmbeddingProvider): void {
  try {
    assertCompatible(modelOf(collection), provider);
  } catch (error) {
    if (!(error instanceof EmbeddingMismatchError)) throw error;
    throw new AppError({
      code: "BAD_REQUEST",
      message: `Collection "${collection.name}": ${error.message}; or send precomputed vectors of its dimension`,
    });
  }
}

/** Checks every vector has the collection's dimension (0 = unknown: Chroma itself decides). */
export function assertDimension(vectors: number[][], dimension: number, what: string): void {
  if (dimension === 0) return;
  const index = vectors.findIndex((vector) => vector.length !== dimension);
  if (index === -1) return;
  throw new AppError({
    code: "BAD_REQUEST",
    message: `${what}[${index}] has ${vectors[index]!.length} dimensions; the collection's vectors have ${dimension}`,
    issues: [{ path: `${what}.${index}`, message: `must have ${dimension} numbers` }],
  });
}

/** How Chroma says its disk is full: SQLite's SQLITE_FULL, or the OS's ENOSPC from its files. */
const CHROMA_DISK_FULL = /database or disk is full|no space left on device|os error 28/i;

/** Maps the Chroma client's errors to ours: Chroma's own wording, without its internal URL. */
export function fromChromaError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof Error && CHROMA_DISK_FULL.test(error.message)) {
    return new AppError({
      code: "STORAGE_FULL",
      message:
        "The vector store's disk is full: nothing more can be stored (or deleted) until an operator frees space on this instance's data volume",
      cause: error,
    });
  }
  if (error instanceof ChromaConnectionError) {
    return new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The vector store is unreachable",
      cause: error,
    });
  }
  if (error instanceof ChromaClientError || error instanceof ChromaValueError) {
    const message = error.message.replace(/^Bad request to \S+ with status: /, "");
    return new AppError({
      code: "BAD_REQUEST",
      message: `Rejected by the vector store: ${message}`,
      cause: error,
    });
  }
  return error;
}

export function rethrowChroma(error: unknown): never {
  throw fromChromaError(error);
}

/**
 * A pool's collections persist their HNSW index on every write (Chroma's default: every 1,000
 * records). A pool bounds how many indexes its Chroma keeps loaded (POOL_CHROMA_INDEX_MEMORY_MB), and
 * Chroma 1.0 reloads a dropped index from its files alone: with the default, a dropped index
 * that had not reached 1,000 writes failed every search ("Nothing found on disk"), and one
 * past its last save silently lost the records written since (both measured).
 */
export const POOL_HNSW_SYNC_THRESHOLD = 1;

/** The `hnsw.sync_threshold` collections of this instance must have: set on a pool only. */
export function syncThresholdFor(config: { POOL_ID?: string }): number | undefined {
  return config.POOL_ID ? POOL_HNSW_SYNC_THRESHOLD : undefined;
}

/**
 * Creates a collection recording `provider`'s name and dimension. Cosine distance: what text
 * embeddings are compared with (for unit vectors it ranks exactly like L2).
 */
export async function createChromaCollection(
  chroma: ChromaClient,
  name: string,
  provider: EmbeddingProvider,
  opts: { syncThreshold?: number } = {},
): Promise<ChromaCollection> {
  const sync = opts.syncThreshold === undefined ? {} : { sync_threshold: opts.syncThreshold };
  return chroma
    .createCollection({
      name,
      embeddingFunction: null,
      metadata: { ...modelMetadata(provider) },
      configuration: { hnsw: { space: "cosine", ...sync } },
    })
    .catch(rethrowChroma);
}

/** A Chroma client for a server URL (`http://127.0.0.1:8000`, or https behind a proxy). */
export function chromaClientFor(url: string): ChromaClient {
  const parsed = new URL(url);
  return new ChromaClient({
    host: parsed.hostname,
    port: Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80)),
    ssl: parsed.protocol === "https:",
  });
}
