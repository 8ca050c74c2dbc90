import { AppError } from "@vdb/http/errors";
import type { Collection, CreateCollectionRequest } from "@vdb/schemas/instances";
import type { InstanceServices } from "../services";
import {
  createChromaCollection,
  describeCollection,
  findCollection,
  syncThresholdFor,
} from "./chroma-collections";

/** Creates an empty collection for a model (default: the instance's); 409 when the name is taken. */
export async function createCollection({
  ctx,
  input,
}: {
  ctx: InstanceServices;
  input: CreateCollectionRequest;
}): Promise<Collection> {
  return ctx.writeLock.run(async () => {
    if (await findCollection(ctx.chroma, input.name)) {
      throw new AppError({ code: "CONFLICT", message: `A collection named "${input.name}" already exists` });
    }
    const provider = input.model
      ? ctx.providers.forModel({
          model: input.model,
          ...(input.dimension ? { dimension: input.dimension } : {}),
        })
      : ctx.provider;
    if (input.dimension !== undefined && input.dimension !== provider.dimension) {
      throw new AppError({
        code: "BAD_REQUEST",
        message: `${provider.name} embeds ${provider.dimension}-d vectors, not ${input.dimension}-d`,
      });
    }
    return describeCollection(
      await createChromaCollection(ctx.chroma, input.name, provider, {
        syncThreshold: syncThresholdFor(ctx.config),
      }),
    );
  });
}
