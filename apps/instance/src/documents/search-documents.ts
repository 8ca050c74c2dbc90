import {
  defaultSearchMode,
  type SearchHit,
  type SearchRequest,
  type SearchResponse,
} from "@vdb/schemas/instances";
import type { Where, WhereDocument } from "chromadb";
import type { z } from "zod";
import {
  assertDimension,
  type ChromaCollection,
  getCollectionOrThrow,
  modelOf,
  rethrowChroma,
} from "../collections/chroma-collections";
import { getFromChroma, queryChroma } from "../collections/chroma-query";
import { providerForCollection } from "../collections/providers";
import type { KeywordHit } from "../keyword/keyword-index";
import type { InstanceServices } from "../services";
import { embedTexts } from "./embed-texts";

type Input = z.output<typeof SearchRequest>;

/** Reciprocal rank fusion's constant (Cormack et al. 2009): a hit's fused score is Σ 1/(k + rank). */
export const RRF_K = 60;
/** How deep each ranking goes before fusion: a hit ranked this low by one ranking can still rise. */
const FUSION_DEPTH = 100;
/** Keyword hits checked against a metadata filter per Chroma call. */
const FILTER_WINDOW = 1_000;

/**
 * The `nResults` best documents for a query text or vector, filtered by metadata (`where`) and
 * content (`whereDocument`) in every mode, best first:
 * - `vector`: nearest embeddings to the query (embedded with the collection's model) or vector;
 * - `keyword`: BM25 over the collection's keyword index;
 * - `hybrid` (default for a text): both rankings, `FUSION_DEPTH` deep, fused by reciprocal rank.
 */
export async function searchDocuments({
  ctx,
  input,
}: {
  ctx: InstanceServices;
  input: Input;
}): Promise<SearchResponse> {
  const collection = await getCollectionOrThrow(ctx.chroma, input.collection);
  const mode = input.mode ?? defaultSearchMode(input);
  if (mode === "vector") {
    const { vector, queryTruncated } = await queryVector(ctx, collection, input);
    const hits = await vectorHits(ctx, collection, vector, input, {
      nResults: input.nResults,
      include: input.include,
    });
    // Ranked by distance alone: a hit's rank is its place, so it carries no scores or ranks.
    return { collection: input.collection, mode, results: hits, ...queryTruncated };
  }
  if (mode === "keyword") {
    const ranked = await keywordHits(ctx, collection, input, input.nResults);
    const rows = await readRows(
      ctx,
      collection,
      ranked.map((hit) => hit.id),
      input.include,
    );
    const results = ranked.flatMap((hit, index) => {
      const row = rows.get(hit.id);
      if (!row) return [];
      return [
        {
          ...row,
          ...(input.include.includes("distances") ? { distance: null } : {}),
          score: hit.score,
          keywordScore: hit.score,
          ranks: { keyword: index + 1 },
        },
      ];
    });
    return { collection: input.collection, mode, results };
  }

  const depth = Math.max(FUSION_DEPTH, input.nResults);
  const [[byVector, queryTruncated], byKeyword] = await Promise.all([
    queryVector(ctx, collection, input).then(
      async ({ vector, queryTruncated }) =>
        [
          await vectorHits(ctx, collection, vector, input, { nResults: depth, include: ["distances"] }),
          queryTruncated,
        ] as const,
    ),
    keywordHits(ctx, collection, input, depth),
  ]);
  const fused = new Map<string, { score: number; vector: number | null; keyword: number | null }>();
  const entry = (id: string) => {
    let found = fused.get(id);
    if (!found) {
      found = { score: 0, vector: null, keyword: null };
      fused.set(id, found);
    }
    return found;
  };
  byVector.forEach((hit, index) => {
    const fusedHit = entry(hit.id);
    fusedHit.vector = index + 1;
    fusedHit.score += 1 / (RRF_K + index + 1);
  });
  byKeyword.forEach((hit, index) => {
    const fusedHit = entry(hit.id);
    fusedHit.keyword = index + 1;
    fusedHit.score += 1 / (RRF_K + index + 1);
  });
  const best = [...fused.entries()]
    .sort(([idA, a], [idB, b]) => b.score - a.score || (idA < idB ? -1 : idA > idB ? 1 : 0))
    .slice(0, input.nResults);
  const rows = await readRows(
    ctx,
    collection,
    best.map(([id]) => id),
    input.include.filter((field) => field !== "distances"),
  );
  const results = best.flatMap(([id, fusedHit]) => {
    const row = rows.get(id);
    if (!row) return [];
    const hit: SearchHit = { ...row };
    if (input.include.includes("distances")) {
      hit.distance = fusedHit.vector === null ? null : (byVector[fusedHit.vector - 1]!.distance ?? null);
    }
    hit.score = fusedHit.score;
    hit.keywordScore = fusedHit.keyword === null ? null : byKeyword[fusedHit.keyword - 1]!.score;
    hit.ranks = { vector: fusedHit.vector, keyword: fusedHit.keyword };
    return [hit];
  });
  return { collection: input.collection, mode, results, ...queryTruncated };
}

/** The query as a vector; for a text, also whether it was cut to the model's input window. */
async function queryVector(
  ctx: InstanceServices,
  collection: ChromaCollection,
  input: Input,
): Promise<{ vector: number[]; queryTruncated?: { queryTruncated: boolean } }> {
  if (input.queryEmbedding) {
    assertDimension([input.queryEmbedding], modelOf(collection).dimension, "queryEmbedding");
    return { vector: input.queryEmbedding };
  }
  const embedded = await embedTexts(
    providerForCollection(ctx.providers, collection),
    [input.query!],
    "query",
  );
  return {
    vector: embedded.vectors[0]!,
    queryTruncated: { queryTruncated: embedded.truncated.length > 0 },
  };
}

/** The nearest documents to `vector` that pass the filters, nearest first. */
async function vectorHits(
  ctx: InstanceServices,
  collection: ChromaCollection,
  vector: number[],
  input: Input,
  opts: { nResults: number; include: Input["include"] },
): Promise<SearchHit[]> {
  if (input.where || input.whereDocument) {
    const exact = await searchFilteredExactly(collection, vector, input, opts);
    if (exact) return exact;
  }
  const result = await queryChroma(ctx.chromaUrl, collection, {
    queryEmbeddings: [vector],
    nResults: opts.nResults,
    where: input.where,
    whereDocument: input.whereDocument,
    include: opts.include,
  });
  const include = new Set(opts.include);
  const ids = result.ids[0] ?? [];
  return ids.map((id, index) => {
    const hit: SearchHit = { id };
    if (include.has("documents")) hit.document = result.documents?.[0]?.[index] ?? null;
    if (include.has("metadatas"))
      hit.metadata = (result.metadatas?.[0]?.[index] ?? null) as SearchHit["metadata"];
    if (include.has("distances")) hit.distance = result.distances?.[0]?.[index] ?? null;
    if (include.has("embeddings")) hit.embedding = toArray(result.embeddings?.[0]?.[index]);
    return hit;
  });
}

/** The `limit` best BM25 matches of the query text that pass the filters, best first. */
async function keywordHits(
  ctx: InstanceServices,
  collection: ChromaCollection,
  input: Input,
  limit: number,
): Promise<KeywordHit[]> {
  const index = await ctx.keywordIndexes.forSearch(collection);
  if (!input.where && !input.whereDocument) return index.query(input.query!, limit);
  // The index knows text only: Chroma says which of the matches pass the filters, in windows
  // taken best first until enough have.
  const matches = index.query(input.query!, Number.POSITIVE_INFINITY);
  const passing: KeywordHit[] = [];
  for (let start = 0; start < matches.length && passing.length < limit; start += FILTER_WINDOW) {
    const window = matches.slice(start, start + FILTER_WINDOW);
    const found = await getFromChroma(ctx.chromaUrl, collection, {
      ids: window.map((hit) => hit.id),
      where: input.where,
      whereDocument: input.whereDocument,
      include: [],
    });
    const passed = new Set(found.ids);
    passing.push(...window.filter((hit) => passed.has(hit.id)));
  }
  return passing.slice(0, limit);
}

/** The included fields of `ids` from Chroma, by id (a record gone meanwhile is absent). */
async function readRows(
  ctx: InstanceServices,
  collection: ChromaCollection,
  ids: string[],
  include: Input["include"],
): Promise<Map<string, SearchHit>> {
  const fields = include.filter((field) => field !== "distances");
  if (ids.length === 0) return new Map();
  const found = await getFromChroma(ctx.chromaUrl, collection, { ids, include: fields });
  const rows = new Map<string, SearchHit>();
  found.ids.forEach((id, index) => {
    const hit: SearchHit = { id };
    if (fields.includes("documents")) hit.document = found.documents?.[index] ?? null;
    if (fields.includes("metadatas"))
      hit.metadata = (found.metadatas?.[index] ?? null) as SearchHit["metadata"];
    if (fields.includes("embeddings")) hit.embedding = toArray(found.embeddings?.[index]);
    rows.set(id, hit);
  });
  return rows;
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
  opts: { nResults: number; include: Input["include"] },
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
  const include = new Set(opts.include);
  const rows = await collection
    .get({
      ids: candidates.ids,
      include: [
        "embeddings",
        ...opts.include.filter((field) => field === "documents" || field === "metadatas"),
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
    .slice(0, opts.nResults)
    .map(({ id, index, distance }) => {
      const hit: SearchHit = { id };
      if (include.has("documents")) hit.document = rows.documents[index] ?? null;
      if (include.has("metadatas")) hit.metadata = (rows.metadatas[index] ?? null) as SearchHit["metadata"];
      if (include.has("distances")) hit.distance = distance;
      if (include.has("embeddings")) hit.embedding = toArray(rows.embeddings[index]);
      return hit;
    });
}
