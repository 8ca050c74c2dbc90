import { AppError } from "@vdb/http/errors";
import { CHROMA_MAX_WRITE, type EmbedRequest, type EmbedResponse } from "@vdb/schemas/instances";
import type { Metadata as ChromaMetadata } from "chromadb";
import type { z } from "zod";
import {
  assertDimension,
  type ChromaCollection,
  type CollectionModel,
  createChromaCollection,
  findCollection,
  fromChromaError,
  modelMetadata,
  modelOf,
  rethrowChroma,
  syncThresholdFor,
} from "../collections/chroma-collections";
import { providerForCollection } from "../collections/providers";
import type { InstanceServices } from "../services";
import { embedTexts } from "./embed-texts";
import { assertWithinQuota } from "./quota";

type Input = z.output<typeof EmbedRequest>;

/**
 * Upserts documents into a collection (created on first use with the instance's model),
 * embedding `documents` unless `embeddings` are given. Every check — model, dimensions,
 * MAX_DOCS — passes before anything is written.
 *
 * The cheap checks run first, before the (possibly slow) embedding, and again under the write
 * lock, where they are authoritative: a concurrent write may have used up the quota meanwhile.
 */
export async function embedDocuments({
  ctx,
  input,
}: {
  ctx: InstanceServices;
  input: Input;
}): Promise<EmbedResponse> {
  const first = await checkWrite(ctx, input);
  const provider = first.existing ? providerForCollection(ctx.providers, first.existing) : ctx.provider;
  let embeddings = input.embeddings;
  let truncated: string[] = [];
  if (!embeddings) {
    const embedded = await embedTexts(provider, input.documents!, "bulk");
    embeddings = embedded.vectors;
    truncated = embedded.truncated.map((index) => input.ids[index]!);
  }
  const vectors = embeddings;
  return ctx.writeLock.run(async () => {
    const { existing, model, existingIds } = await checkWrite(ctx, input);
    if (!input.embeddings && existing && providerForCollection(ctx.providers, existing) !== provider) {
      // Created meanwhile, by another request, with another model: these vectors do not fit it.
      throw new AppError({
        code: "CONFLICT",
        message: `Collection "${input.collection}" was just created with another model; send the request again`,
      });
    }
    const collection =
      existing ??
      (await createChromaCollection(ctx.chroma, input.collection, ctx.provider, {
        syncThreshold: syncThresholdFor(ctx.config),
      }));
    const metadatas = input.metadatas?.map((metadata) =>
      metadata && Object.keys(metadata).length > 0 ? (metadata as ChromaMetadata) : null,
    );
    const written: string[] = [];
    const keywordIndex = await ctx.keywordIndexes.beginWrite(collection);
    try {
      for (let start = 0; start < input.ids.length; start += CHROMA_MAX_WRITE) {
        const end = start + CHROMA_MAX_WRITE;
        const ids = input.ids.slice(start, end);
        await collection.upsert({
          ids,
          embeddings: vectors.slice(start, end),
          documents: input.documents?.slice(start, end),
          metadatas: metadatas?.slice(start, end) as ChromaMetadata[] | undefined,
        });
        written.push(...ids);
      }
      // Read back rather than taken as sent: an upsert merges metadata into a record's old one,
      // and one without documents may keep or clear the stored text. Chroma says which.
      await ctx.keywordIndexes.syncIds(collection, keywordIndex, input.ids);
    } catch (error) {
      ctx.keywordIndexes.invalidate(collection);
      await undoPartialWrite(ctx, collection, existing === null, written, existingIds);
      throw fromChromaError(error);
    }
    ctx.keywordIndexes.written(collection);
    const count = await collection.count().catch(rethrowChroma);
    // A collection made outside the instance records no dimension (0): report the vectors'.
    const dimension = model.dimension || vectors[0]!.length;
    return { collection: input.collection, upserted: input.ids.length, dimension, count, truncated };
  });
}

async function checkWrite(
  ctx: InstanceServices,
  input: Input,
): Promise<{ existing: ChromaCollection | null; model: CollectionModel; existingIds: Set<string> }> {
  const existing = await findCollection(ctx.chroma, input.collection);
  const model = existing ? modelOf(existing) : modelMetadata(ctx.provider);
  if (input.embeddings) {
    assertDimension(input.embeddings, model.dimension, "embeddings");
  } else if (existing) {
    providerForCollection(ctx.providers, existing);
  }
  const existingIds = existing ? await presentIds(existing, input.ids) : new Set<string>();
  const added = input.ids.length - existingIds.size;
  await assertWithinQuota(ctx, added);
  return { existing, model, existingIds };
}

/** Which of `ids` the collection already holds. */
async function presentIds(collection: ChromaCollection, ids: string[]): Promise<Set<string>> {
  const present = new Set<string>();
  for (let start = 0; start < ids.length; start += CHROMA_MAX_WRITE) {
    const found = await collection
      .get({ ids: ids.slice(start, start + CHROMA_MAX_WRITE), include: [] })
      .catch(rethrowChroma);
    for (const id of found.ids) present.add(id);
  }
  return present;
}

/**
 * Best effort after a failed write (Chroma died mid-batch): removes what the batch added, so
 * the count and quota stay as they were. Records it updated keep their new values.
 */
async function undoPartialWrite(
  ctx: InstanceServices,
  collection: ChromaCollection,
  wasCreated: boolean,
  written: string[],
  existingIds: Set<string>,
): Promise<void> {
  try {
    if (wasCreated) {
      await ctx.chroma.deleteCollection({ name: collection.name });
      return;
    }
    const added = written.filter((id) => !existingIds.has(id));
    for (let start = 0; start < added.length; start += CHROMA_MAX_WRITE) {
      await collection.delete({ ids: added.slice(start, start + CHROMA_MAX_WRITE) });
    }
  } catch (error) {
    ctx.logger.error({ err: error, collection: collection.name }, "could not undo a partial write");
  }
}
