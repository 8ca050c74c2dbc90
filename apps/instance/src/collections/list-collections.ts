import type { Collection } from "@vdb/schemas/instances";
import type { InstanceServices } from "../services";
import { describeCollection, listAllCollections } from "./chroma-collections";

/** Every collection of the instance with its model, dimension and document count, by name. */
export async function listCollections({ ctx }: { ctx: InstanceServices }): Promise<Collection[]> {
  const collections = await listAllCollections(ctx.chroma);
  const described = await Promise.all(collections.map(describeCollection));
  return described.sort((a, b) => a.name.localeCompare(b.name));
}
