import type { GetRecordsRequest, GetRecordsResponse, StoredRecord } from "@vdb/schemas/instances";
import type { z } from "zod";
import { getCollectionOrThrow } from "../collections/chroma-collections";
import { countInChroma, getFromChroma } from "../collections/chroma-query";
import type { InstanceServices } from "../services";

type Input = z.output<typeof GetRecordsRequest>;

/** A page of a collection's records with their text and metadata (the console's record browser). */
export async function getRecords({
  ctx,
  input,
}: {
  ctx: InstanceServices;
  input: Input;
}): Promise<GetRecordsResponse> {
  const collection = await getCollectionOrThrow(ctx.chroma, input.collection);
  const [got, count] = await Promise.all([
    getFromChroma(ctx.chromaUrl, collection, {
      ...(input.ids ? { ids: input.ids } : {}),
      ...(input.where ? { where: input.where } : {}),
      limit: input.limit,
      offset: input.offset,
      include: ["documents", "metadatas"],
    }),
    countInChroma(ctx.chromaUrl, collection),
  ]);
  const records: StoredRecord[] = got.ids.map((id, i) => ({
    id,
    document: got.documents?.[i] ?? null,
    metadata: (got.metadatas?.[i] ?? null) as StoredRecord["metadata"],
  }));
  return { collection: input.collection, records, count };
}
