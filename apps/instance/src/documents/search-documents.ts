import type { SearchHit, SearchRequest, SearchResponse } from "@vdb/schemas/instances";
import type { Where, WhereDocument } from "chromadb";
import type { z } from "zod";
import {
  assertDimension,
  type ChromaCollection,
  getCollectionOrThrow,
  modelOf,
  rethrowChroma,
} from "../collections/chroma-collections";
import { queryChroma } from "../collections/chroma-query";
import { providerForCollection } from "../collections/providers";
import type { InstanceServices } from "../services";
import { embedTexts } from "./embed-texts";

type Input = z.output<typeof SearchRequest>;

/**
 * The `nResults` nearest documents to a query text (embedded with the instance's model) or to
 * a query vector, filtered by metadata (`where`) and content (`whereDocument`), nearest first.
 */
export async function searchDocuments({
  ctx,
  input,
}: {
  ctx: InstanceServices;
  input: Input;
}): Promise<SearchResponse> {
  const collection = await getCollectionOrThrow(ctx.chroma, input.collection);
  let vector: number[];
  // Said only of a text query: a vector is never cut.
  let queryTruncated: { queryTruncated: boolean } | undefined;
  if (input.queryEmbedding) {
    assertDimension([input.queryEmbedding], modelOf(collection).dimension, "queryEmbedding");
    vector = input.queryEmbedding;
  } else {
    const embedded = await embedTexts(
      providerForCollection(ctx.providers, collection),
      [input.query!],
      "query",
    );
    vector = embedded.vectors[0]!;
    queryTruncated = { queryTruncated: embedded.truncated.length > 0 };
  }
  if (input.where || input.whereDocument) {
    const exact = await searchFilteredExactly(collection, vector, input);
    if (exact) return { collection: input.collection, results: exact, ...queryTruncated };
  }
  const result = await queryChroma(ctx.chromaUrl, collection, {
    queryEmbeddings: [vector],
    nResults: input.nResults,
    where: input.where,
    whereDocument: input.whereDocument,
    include: input.include,
  });
  const include = new Set(input.include);
  const ids = result.ids[0] ?? [];
  const results = ids.map((id, index) => {
    const hit: SearchHit = { id };
    if (include.has("documents")) hit.document = result.documents?.[0]?.[index] ?? null;
    if (include.has("metadatas"))
      hit.metadata = (result.metadatas?.[0]?.[index] ?? null) as SearchHit["metadata"];
    if (include.has("distances")) hit.distance = result.distances?.[0]?.[index] ?? null;
    if (include.has("embeddings")) hit.embedding = toArray(result.embeddings?.[0]?.[index]);
    return hit;
  });
  return { collection: input.collection, results, ...queryTruncated };
}

function toArray(vector: ArrayLike<number> | null | undefined): number[] | null {
  return vector ? Array.from(vector) : null;
}

/**
 * Chroma's filtered query walks the HNSW graph with the filter applied, so when few documents
 * match (a selective filter) it can miss some of them. Up to this many matches, the instance
 * reads them and ranks them itself: exact, and cheap at that size. Beyond it, the index.
 */
export const EXACT_FILTER_LIMIT = 1_000;

type Space = "cosine" | "l2" | "ip";

/** Chroma's distance for its `space`: cosine 1 − cos, l2 squared Euclidean, ip 1 − dot. */
export function chromaDistance(space: Space, a: number[], b: ArrayLike<number>): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  let squared = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    aa += x * x;
    bb += y * y;
    squared += (x - y) * (x - y);
  }
  if (space === "l2") return squared;
  if (space === "ip") return 1 - dot;
  return aa === 0 || bb === 0 ? 1 : 1 - dot / Math.sqrt(aa * bb);
}

async function searchFilteredExactly(
  collection: ChromaCollection,
  vector: number[],
  input: Input,
): Promise<SearchHit[] | null> {
  const filter = {
    where: input.where as Where | undefined,
    whereDocument: input.whereDocument as WhereDocument | undefined,
  };
  const candidates = await collection
    .get({ ...filter, include: [], limit: EXACT_FILTER_LIMIT + 1 })
    .catch(rethrowChroma);
  if (candidates.ids.length > EXACT_FILTER_LIMIT) return null;
  if (candidates.ids.length === 0) return [];
  const include = new Set(input.include);
  const rows = await collection
    .get({
      ids: candidates.ids,
      include: [
        "embeddings",
        ...input.include.filter((field) => field === "documents" || field === "metadatas"),
      ],
    })
    .catch(rethrowChroma);
  const space = (collection.configuration?.hnsw?.space ?? "l2") as Space;
  return rows.ids
    .map((id, index) => ({
      id,
      index,
      distance: chromaDistance(space, vector, rows.embeddings[index] ?? []),
    }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, input.nResults)
    .map(({ id, index, distance }) => {
      const hit: SearchHit = { id };
      if (include.has("documents")) hit.document = rows.documents[index] ?? null;
      if (include.has("metadatas")) hit.metadata = (rows.metadatas[index] ?? null) as SearchHit["metadata"];
      if (include.has("distances")) hit.distance = distance;
      if (include.has("embeddings")) hit.embedding = toArray(rows.embeddings[index]);
      return hit;
    });
}
