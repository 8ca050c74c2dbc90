import { CHROMA_MAX_WRITE, type DeleteRequest, type DeleteResponse } from "@vdb/schemas/instances";
import type { Where } from "chromadb";
import type { z } from "zod";
import {
  type ChromaCollection,
  getCollectionOrThrow,
  rethrowChroma,
} from "../collections/chroma-collections";
import { getFromChroma } from "../collections/chroma-query";
import type { InstanceServices } from "../services";

type Input = z.output<typeof DeleteRequest>;

/**
 * Deletes documents by id, by metadata filter, or both (a document must then match both).
 * `deleted` is measured (count before − count after): Chroma 1.0 does not report it.
 */
export async function deleteDocuments({
  ctx,
  input,
}: {
  ctx: InstanceServices;
  input: Input;
}): Promise<DeleteResponse> {
  return ctx.writeLock.run(async () => {
    const collection = await getCollectionOrThrow(ctx.chroma, input.collection);
    const before = await collection.count().catch(rethrowChroma);
    const where = input.where as Where | undefined;
    // The ids about to go, for the keyword index: those given, or those the filter matches.
    const doomed = where
      ? (await getFromChroma(ctx.chromaUrl, collection, { ids: input.ids, where, include: [] })).ids
      : input.ids!;
    const keywordIndex = await ctx.keywordIndexes.beginWrite(collection);
    try {
      await deleteFromChroma(collection, input.ids, where);
    } catch (error) {
      ctx.keywordIndexes.invalidate(collection);
      throw error;
    }
    keywordIndex.remove(doomed);
    ctx.keywordIndexes.written(collection);
    const count = await collection.count().catch(rethrowChroma);
    return { collection: input.collection, deleted: before - count, count };
  });
}

async function deleteFromChroma(
  collection: ChromaCollection,
  ids: string[] | undefined,
  where: Where | undefined,
) {
  if (ids) {
    for (let start = 0; start < ids.length; start += CHROMA_MAX_WRITE) {
      await collection
        .delete({ ids: ids.slice(start, start + CHROMA_MAX_WRITE), where })
        .catch(rethrowChroma);
    }
  } else {
    await collection.delete({ where }).catch(rethrowChroma);
  }
}
