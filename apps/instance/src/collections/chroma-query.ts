import { AppError } from "@vdb/http/errors";
import { createUpstreamClient, type UpstreamReply } from "@vdb/http/upstream-client";

/**
 * Chroma's query and get endpoints called directly, over kept-alive connections: the hot path of every
 * search. The chromadb client adds a second serialisation pass and a fetch per call, which on a
 * busy machine cost about as much as the query itself (see bench/search).
 */
export interface ChromaQuery {
  queryEmbeddings: number[][];
  nResults: number;
  where?: unknown;
  whereDocument?: unknown;
  include: readonly string[];
}

export interface ChromaQueryResult {
  ids: string[][];
  documents?: (string | null)[][] | null;
  metadatas?: (Record<string, unknown> | null)[][] | null;
  distances?: (number | null)[][] | null;
  embeddings?: (number[] | null)[][] | null;
}

const REQUEST_TIMEOUT_MS = 30_000;
// One client for every Chroma this process talks to (one, in practice: its own).
const chroma = createUpstreamClient({ maxSockets: 32, timeoutMs: REQUEST_TIMEOUT_MS });

/** Runs one query against `collection` in the Chroma at `chromaUrl`; Chroma's refusals become 4xx. */
export async function queryChroma(
  chromaUrl: string,
  collection: ChromaCollectionRef,
  query: ChromaQuery,
): Promise<ChromaQueryResult> {
  return callChromaCollection(chromaUrl, collection, "query", {
    query_embeddings: query.queryEmbeddings,
    n_results: query.nResults,
    ...(query.where ? { where: query.where } : {}),
    ...(query.whereDocument ? { where_document: query.whereDocument } : {}),
    include: query.include,
  }) as Promise<ChromaQueryResult>;
}

/** Where a collection is in Chroma: the chromadb client's collections are one. */
export interface ChromaCollectionRef {
  id: string;
  tenant: string;
  database: string;
}

export interface ChromaGetResult {
  ids: string[];
  documents?: (string | null)[] | null;
  metadatas?: (Record<string, unknown> | null)[] | null;
  embeddings?: (number[] | null)[] | null;
}

/** Chroma's `get` on a collection (ids, filters, paging, include), over the same connections. */
export async function getFromChroma(
  chromaUrl: string,
  collection: ChromaCollectionRef,
  request: {
    ids?: string[];
    where?: unknown;
    whereDocument?: unknown;
    limit?: number;
    offset?: number;
    include: readonly string[];
  },
): Promise<ChromaGetResult> {
  const { whereDocument, ...rest } = request;
  return callChromaCollection(chromaUrl, collection, "get", {
    ...rest,
    ...(whereDocument ? { where_document: whereDocument } : {}),
  }) as Promise<ChromaGetResult>;
}

/** How many records a collection holds. */
export async function countInChroma(chromaUrl: string, collection: ChromaCollectionRef): Promise<number> {
  return callChromaCollection(chromaUrl, collection, "count") as Promise<number>;
}

async function callChromaCollection(
  chromaUrl: string,
  collection: ChromaCollectionRef,
  action: "query" | "get" | "count",
  request?: unknown,
): Promise<unknown> {
  const path =
    `/api/v2/tenants/${encodeURIComponent(collection.tenant)}/databases/${encodeURIComponent(collection.database)}` +
    `/collections/${encodeURIComponent(collection.id)}/${action}`;
  let response: UpstreamReply;
  try {
    response = await chroma.request(
      `${chromaUrl}${path}`,
      request === undefined
        ? { method: "GET" }
        : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) },
    );
  } catch (error) {
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The vector store is unreachable",
      cause: error,
    });
  }
  if (response.status >= 400) throw chromaRefusal(response.status, response.text);
  return JSON.parse(response.text);
}

/** Chroma's own words for a refused query: 4xx is the caller's mistake, the rest is ours. */
function chromaRefusal(status: number, text: string): AppError {
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    message = String(parsed.message ?? parsed.error ?? text);
  } catch {
    // not JSON: keep Chroma's text
  }
  if (status === 404)
    return new AppError({ code: "NOT_FOUND", message: `The collection is gone: ${message}` });
  if (status < 500)
    return new AppError({ code: "BAD_REQUEST", message: `Rejected by the vector store: ${message}` });
  return new AppError({
    code: "SERVICE_UNAVAILABLE",
    message: `The vector store failed the query (${status})`,
  });
}
