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
import type { KeywordHit, KeywordIndex } from "../keyword/keyword-index";
import type { InstanceServices } from "../services";
import { embedTexts } from "./embed-texts";
import type { CachedRow } from "./row-cache";
import { phaseSince, type SearchPhases } from "./search-phases";

type Input = z.output<typeof SearchRequest>;
/** A record's fields as a hit carries them, before it is scored. */
type Row = Omit<SearchHit, "score">;

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
 *
 * Every hit carries `score`, what it is ranked by (higher first): the vector similarity
 * (1 − distance), the BM25 score, or the fused score. Beside it, `vectorScore` wherever the query
 * was embedded (vector, hybrid) and `keywordScore` wherever BM25 ran (keyword, hybrid), for
 * every hit, including those only the other ranking found.
 */
export async function searchDocuments({
  ctx,
  input,
  phases,
}: {
  ctx: InstanceServices;
  input: Input;
  /** Filled with the search's phase timings when given (see search-phases). */
  phases?: SearchPhases;
}): Promise<SearchResponse> {
  const started = performance.now();
  const collection = await getCollectionOrThrow(ctx.chroma, input.collection);
  phaseSince(phases, "collection", started);
  const mode = input.mode ?? defaultSearchMode(input);
  const wantsDistances = input.include.includes("distances");
  if (mode === "vector") {
    const embedding = performance.now();
    const { vector, queryTruncated } = await queryVector(ctx, collection, input);
    phaseSince(phases, "embed", embedding);
    const querying = performance.now();
    const hits = await vectorHits(ctx, collection, vector, input, {
      nResults: input.nResults,
      include: [...input.include.filter((field) => field !== "distances"), "distances"],
    });
    phaseSince(phases, "chroma", querying);
    // Ranked by distance alone: a hit's rank is its place, so it carries no ranks.
    const results = hits.map(({ distance, ...hit }) => {
      const similarity = similarityOf(distance!);
      return { ...hit, ...(wantsDistances ? { distance } : {}), score: similarity, vectorScore: similarity };
    });
    return { collection: input.collection, mode, results, ...queryTruncated };
  }
  if (mode === "keyword") {
    const ranking = performance.now();
    const { ranked, index } = await keywordHits(ctx, collection, input, input.nResults);
    phaseSince(phases, "keyword", ranking);
    const reading = performance.now();
    const rows = await readRows(
      ctx,
      collection,
      ranked.map((hit) => hit.id),
      input.include,
      index,
      phases,
    );
    phaseSince(phases, "rows", reading);
    const results = ranked.flatMap((hit, index) => {
      const row = rows.get(hit.id);
      if (!row) return [];
      return [
        {
          ...row,
          // Keyword search never embeds the query, so no hit has a distance to it.
          ...(wantsDistances ? { distance: null } : {}),
          score: hit.score,
          keywordScore: hit.score,
          ranks: { keyword: index + 1 },
        },
      ];
    });
    return { collection: input.collection, mode, results };
  }

  const depth = Math.max(FUSION_DEPTH, input.nResults);
  const fields = input.include.filter((field) => field !== "distances");
  const isFiltered = Boolean(input.where || input.whereDocument);
  // The vector ranking is ids and distances only (rows for 100 hits in the query cost Chroma twice
  // as long as the query). The rows of the hits fused into the answer are read after fusion from
  // the keyword index's rows file (no Chroma call: a Chroma `get` costs ~1.5–2 ms however few rows
  // it reads), and from Chroma only for records without text. (Reading the keyword hits' 100 rows
  // from Chroma beside the embedding instead slowed the embedding as much as the read it saved, on
  // 2 cores: bench/retrieval.) Filtered searches' vector ranking brings its rows itself.
  const ranking = performance.now();
  const [[byVector, queryEmbedding, queryTruncated], byKeyword] = await Promise.all([
    queryVector(ctx, collection, input).then(async ({ vector, queryTruncated }) => {
      phaseSince(phases, "embed", ranking);
      const querying = performance.now();
      const hits = await vectorHits(ctx, collection, vector, input, {
        nResults: depth,
        // A filtered search reads its candidates' rows anyway (exactly ranked, or Chroma's).
        include: isFiltered ? [...fields, "distances"] : ["distances"],
      });
      phaseSince(phases, "chroma", querying);
      return [hits, vector, queryTruncated] as const;
    }),
    keywordHits(ctx, collection, input, depth).then((hits) => {
      phaseSince(phases, "keyword", ranking);
      return hits;
    }),
  ]);
  const fusing = performance.now();
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
  byKeyword.ranked.forEach((hit, index) => {
    const fusedHit = entry(hit.id);
    fusedHit.keyword = index + 1;
    fusedHit.score += 1 / (RRF_K + index + 1);
  });
  const best = [...fused.entries()]
    .sort(([idA, a], [idB, b]) => b.score - a.score || (idA < idB ? -1 : idA > idB ? 1 : 0))
    .slice(0, input.nResults);

  // A hit only the keyword ranking found gets its exact distance from its embedding; one only
  // the vector ranking found, its BM25 score among all matches (0: no query word in it).
  const onlyByVector = new Set(best.filter(([, fusedHit]) => fusedHit.keyword === null).map(([id]) => id));
  const keywordScores = new Map<string, number>();
  if (onlyByVector.size > 0) {
    for (const match of byKeyword.all)
      if (onlyByVector.has(match.id)) keywordScores.set(match.id, match.score);
  }
  // A hit only the keyword ranking found needs its embedding for its distance; the others, their
  // fields, unless the filtered vector ranking brought them.
  const rowsKnown: Map<string, Row> = isFiltered ? new Map(byVector.map((hit) => [hit.id, hit])) : new Map();
  const needsEmbedding = best.filter(([, fusedHit]) => fusedHit.vector === null).map(([id]) => id);
  const needsFields = best
    .filter(([id, fusedHit]) => fusedHit.vector !== null && fields.length > 0 && !rowsKnown.has(id))
    .map(([id]) => id);
  phaseSince(phases, "fuse", fusing);
  const reading = performance.now();
  const [embeddedRows, fieldRows] = await Promise.all([
    readRows(
      ctx,
      collection,
      needsEmbedding,
      fields.includes("embeddings") ? fields : [...fields, "embeddings"],
    ),
    readRows(ctx, collection, needsFields, fields, byKeyword.index, phases),
  ]);
  phaseSince(phases, "rows", reading);
  if (phases) {
    phases.keywordOnly = needsEmbedding.length;
    phases.vectorOnly = onlyByVector.size;
    phases.deepestKeywordRank = Math.max(0, ...best.map(([, hit]) => hit.keyword ?? 0));
    phases.deepestVectorRank = Math.max(0, ...best.map(([, hit]) => hit.vector ?? 0));
  }
  const building = performance.now();
  const space = spaceOf(collection);
  const results = best.flatMap(([id, fusedHit]) => {
    let distance: number;
    let row: Row | undefined;
    if (fusedHit.vector === null) {
      const embeddedRow = embeddedRows.get(id);
      if (!embeddedRow) return []; // deleted meanwhile
      const { embedding, ...rest } = embeddedRow;
      row = fields.includes("embeddings") ? embeddedRow : rest;
      distance = chromaDistance(space, queryEmbedding, embedding ?? []);
    } else {
      distance = byVector[fusedHit.vector - 1]!.distance!;
      row = fields.length === 0 ? { id } : (rowsKnown.get(id) ?? fieldRows.get(id));
      if (!row) return []; // deleted meanwhile
    }
    const { distance: _distance, ...fieldsOfRow } = row;
    const hit: SearchHit = {
      ...fieldsOfRow,
      ...(wantsDistances ? { distance } : {}),
      score: fusedHit.score,
      vectorScore: similarityOf(distance),
      keywordScore:
        fusedHit.keyword === null
          ? (keywordScores.get(id) ?? 0)
          : byKeyword.ranked[fusedHit.keyword - 1]!.score,
      ranks: { vector: fusedHit.vector, keyword: fusedHit.keyword },
    };
    return [hit];
  });
  phaseSince(phases, "build", building);
  return { collection: input.collection, mode, results, ...queryTruncated };
}

/**
 * A vector distance as a similarity, higher first: 1 − distance, which is the cosine similarity
 * in a cosine collection (every collection VDB creates) and the dot product in an `ip` one.
 */
export function similarityOf(distance: number): number {
  return 1 - distance;
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
): Promise<Row[]> {
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
    const hit: Row = { id };
    if (include.has("documents")) hit.document = result.documents?.[0]?.[index] ?? null;
    if (include.has("metadatas"))
      hit.metadata = (result.metadatas?.[0]?.[index] ?? null) as SearchHit["metadata"];
    if (include.has("distances")) hit.distance = result.distances?.[0]?.[index] ?? null;
    if (include.has("embeddings")) hit.embedding = toArray(result.embeddings?.[0]?.[index]);
    return hit;
  });
}

/**
 * The `limit` best BM25 matches of the query text that pass the filters, best first (`ranked`),
 * every match of the query's words, filtered or not (`all`), for the scores of other hits, and
 * the index they come from (whose rows file has their rows).
 */
async function keywordHits(
  ctx: InstanceServices,
  collection: ChromaCollection,
  input: Input,
  limit: number,
): Promise<{ ranked: KeywordHit[]; all: KeywordHit[]; index: KeywordIndex }> {
  const index = await ctx.keywordIndexes.forSearch(collection);
  const matches = index.matches(input.query!);
  if (!input.where && !input.whereDocument) return { ranked: matches.slice(0, limit), all: matches, index };
  // The index knows text only: Chroma says which of the matches pass the filters, in windows
  // taken best first until enough have.
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
  return { ranked: passing.slice(0, limit), all: matches, index };
}

/**
 * The included fields of `ids`, by id (a record gone meanwhile is absent): documents and
 * metadatas from the keyword index's rows file (`index`, for the records with text) or the row
 * cache where they have them, embeddings always from Chroma.
 */
async function readRows(
  ctx: InstanceServices,
  collection: ChromaCollection,
  ids: string[],
  include: Input["include"],
  index?: KeywordIndex,
  /** When given, `rowsRead` counts the rows asked of the row cache or Chroma (not in the rows file). */
  phases?: SearchPhases,
): Promise<Map<string, Row>> {
  const fields = include.filter((field) => field !== "distances");
  if (ids.length === 0) return new Map();
  if (!fields.includes("embeddings")) {
    const local = index
      ? await ctx.keywordIndexes.readRows(collection, index, ids)
      : new Map<string, CachedRow>();
    const missing = ids.filter((id) => !local.has(id));
    if (phases) phases.rowsRead = (phases.rowsRead ?? 0) + missing.length;
    if (missing.length > 0)
      for (const [id, row] of await ctx.rowCache.read(ctx, collection, missing)) local.set(id, row);
    return projectRows(local, fields);
  }
  const rows = new Map<string, Row>();
  const found = await getFromChroma(ctx.chromaUrl, collection, { ids, include: fields });
  found.ids.forEach((id, index) => {
    const hit: Row = { id };
    if (fields.includes("documents")) hit.document = found.documents?.[index] ?? null;
    if (fields.includes("metadatas"))
      hit.metadata = (found.metadatas?.[index] ?? null) as SearchHit["metadata"];
    if (fields.includes("embeddings")) hit.embedding = toArray(found.embeddings?.[index]);
    rows.set(id, hit);
  });
  return rows;
}

/** Cached rows with only the fields asked for. */
function projectRows(cached: Map<string, CachedRow>, fields: Input["include"]): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const [id, { document, metadata }] of cached) {
    const row: Row = { id };
    if (fields.includes("documents")) row.document = document;
    if (fields.includes("metadatas")) row.metadata = metadata;
    rows.set(id, row);
  }
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

/** The collection's distance function (Chroma's default is l2; VDB creates cosine collections). */
function spaceOf(collection: ChromaCollection): Space {
  return (collection.configuration?.hnsw?.space ?? "l2") as Space;
}

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
): Promise<Row[] | null> {
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
  const space = spaceOf(collection);
  return rows.ids
    .map((id, index) => ({
      id,
      index,
      distance: chromaDistance(space, vector, rows.embeddings[index] ?? []),
    }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, opts.nResults)
    .map(({ id, index, distance }) => {
      const hit: Row = { id };
      if (include.has("documents")) hit.document = rows.documents[index] ?? null;
      if (include.has("metadatas")) hit.metadata = (rows.metadatas[index] ?? null) as SearchHit["metadata"];
      if (include.has("distances")) hit.distance = distance;
      if (include.has("embeddings")) hit.embedding = toArray(rows.embeddings[index]);
      return hit;
    });
}
