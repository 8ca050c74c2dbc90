import { CHROMA_MAX_WRITE, type DeleteRequest, type DeleteResponse } from "@vdb/schemas/instances";
import type { Where } from "chromadb";
import type { z } from "zod";
import { getCollectionOrThrow, rethrowChroma } from "../collections/chroma-collections";
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
    if (input.ids) {
      for (let start = 0; start < input.ids.length; start += CHROMA_MAX_WRITE) {
        await collection
          .delete({ ids: input.ids.slice(start, start + CHROMA_MAX_WRITE), where })
          .catch(rethrowChroma);
      }
    } else {
      await collection.delete({ where }).catch(rethrowChroma);
    }
    const count = await collection.count().catch(rethrowChroma);
    return { collection: input.collection, deleted: before - count, count };
  });
}
