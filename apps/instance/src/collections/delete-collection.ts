import type { InstanceServices } from "../services";
import { forgetCollection, getCollectionOrThrow, rethrowChroma } from "./chroma-collections";

/** Deletes a collection and every document in it; 404 when there is none by that name. */
export async function deleteCollection({
  ctx,
  input,
}: {
  ctx: InstanceServices;
  input: { name: string };
}): Promise<{ name: string; deleted: true; documents: number }> {
  return ctx.writeLock.run(async () => {
    const collection = await getCollectionOrThrow(ctx.chroma, input.name);
    const documents = await collection.count().catch(rethrowChroma);
    await ctx.chroma.deleteCollection({ name: input.name }).catch(rethrowChroma);
    forgetCollection(ctx.chroma, input.name);
    await ctx.keywordIndexes.drop(collection.id);
    return { name: input.name, deleted: true, documents };
  });
}
