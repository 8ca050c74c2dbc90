import { AppError } from "@vdb/http/errors";
import { createUpstreamClient, type UpstreamReply } from "@vdb/http/upstream-client";
import type { ChromaCollection } from "./chroma-collections";

/**
 * Chroma's query endpoint called directly, over kept-alive connections: the hot path of every
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
  let response: UpstreamReply;
  try {
    response = await chroma.request(`${chromaUrl}${path}`, {
      method: "POST",
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
  if (response.status >= 400) throw chromaRefusal(response.status, response.text);
  return JSON.parse(response.text) as ChromaQueryResult;
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
