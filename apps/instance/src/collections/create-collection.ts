import { AppError } from "@vdb/http/errors";
import type { Collection } from "@vdb/schemas/instances";
import type { InstanceServices } from "../services";
import { createChromaCollection, describeCollection, findCollection } from "./chroma-collections";

/** Creates an empty collection for the instance's embedding model; 409 when the name is taken. */
export async function createCollection({
  ctx,
  input,
}: {
  ctx: InstanceServices;
  input: { name: string };
}): Promise<Collection> {
  return ctx.writeLock.run(async () => {
    if (await findCollection(ctx.chroma, input.name)) {
      throw new AppError({ code: "CONFLICT", message: `A collection named "${input.name}" already exists` });
    }
    return describeCollection(await createChromaCollection(ctx.chroma, input.name, ctx.provider));
  });
}
