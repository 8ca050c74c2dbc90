import type { InstanceServices } from "../services";
import { getCollectionOrThrow, rethrowChroma } from "./chroma-collections";

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
    return { name: input.name, deleted: true, documents };
  });
}
