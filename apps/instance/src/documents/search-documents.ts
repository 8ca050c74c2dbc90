import type { SearchHit, SearchRequest, SearchResponse } from "@vdb/schemas/instances";
import type { Where, WhereDocument } from "chromadb";
import type { z } from "zod";
import {
  assertDimension,
  assertProviderMatches,
  getCollectionOrThrow,
  modelOf,
  rethrowChroma,
} from "../collections/chroma-collections";
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
  if (input.queryEmbedding) {
    assertDimension([input.queryEmbedding], modelOf(collection).dimension, "queryEmbedding");
    vector = input.queryEmbedding;
  } else {
    assertProviderMatches(collection, ctx.provider);
    [vector] = (await embedTexts(ctx.provider, [input.query!])) as [number[]];
  }
  const result = await collection
    .query({
      queryEmbeddings: [vector],
      nResults: input.nResults,
      where: input.where as Where | undefined,
      whereDocument: input.whereDocument as WhereDocument | undefined,
      include: input.include,
    })
    .catch(rethrowChroma);
  const include = new Set(input.include);
  const ids = result.ids[0] ?? [];
  const results = ids.map((id, index) => {
    const hit: SearchHit = { id };
    if (include.has("documents")) hit.document = result.documents[0]?.[index] ?? null;
    if (include.has("metadatas"))
      hit.metadata = (result.metadatas[0]?.[index] ?? null) as SearchHit["metadata"];
    if (include.has("distances")) hit.distance = result.distances[0]?.[index] ?? null;
    if (include.has("embeddings")) hit.embedding = toArray(result.embeddings[0]?.[index]);
    return hit;
  });
  return { collection: input.collection, results };
}

function toArray(vector: ArrayLike<number> | null | undefined): number[] | null {
  return vector ? Array.from(vector) : null;
}
