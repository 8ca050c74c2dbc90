import { AppError } from "@vdb/http/errors";
import { Pool } from "undici";
import type { ChromaCollection } from "./chroma-collections";

/**
 * Chroma's query endpoint called directly, over a kept-alive connection pool: the hot path of
 * every search. The chromadb client adds a second serialisation pass and a fetch per call,
 * which on a busy machine cost about as much as the query itself (see bench/search).
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
const pools = new Map<string, Pool>();

function poolFor(chromaUrl: string): Pool {
  let pool = pools.get(chromaUrl);
  if (!pool) {
    pool = new Pool(chromaUrl, {
      connections: 32,
      keepAliveTimeout: 30_000,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    pools.set(chromaUrl, pool);
  }
  return pool;
}

/** Runs one query against `collection` in the Chroma at `chromaUrl`; Chroma's refusals become 4xx. */
export async function queryChroma(
  chromaUrl: string,
  collection: ChromaCollection,
  query: ChromaQuery,
): Promise<ChromaQueryResult> {
  const body = JSON.stringify({
    query_embeddings: query.queryEmbeddings,
    n_results: query.nResults,
    ...(query.where ? { where: query.where } : {}),
    ...(query.whereDocument ? { where_document: query.whereDocument } : {}),
    include: query.include,
  });
  const path =
    `/api/v2/tenants/${encodeURIComponent(collection.tenant)}/databases/${encodeURIComponent(collection.database)}` +
    `/collections/${encodeURIComponent(collection.id)}/query`;
  let response: Awaited<ReturnType<Pool["request"]>>;
  try {
    response = await poolFor(chromaUrl).request({
      method: "POST",
      path,
      headers: { "content-type": "application/json" },
      body,
    });
  } catch (error) {
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The vector store is unreachable",
      cause: error,
    });
  }
  const text = await response.body.text();
  if (response.statusCode >= 400) throw chromaRefusal(response.statusCode, text);
  return JSON.parse(text) as ChromaQueryResult;
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
