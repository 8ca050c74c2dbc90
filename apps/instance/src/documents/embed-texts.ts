import { EmbeddingRequestError } from "@vdb/embeddings/errors";
import type { EmbeddingProvider, EmbedPriority, EmbedResult } from "@vdb/embeddings/provider";
import { AppError } from "@vdb/http/errors";

/**
 * Embeds texts with the instance's model; a failing model is a 503, not the caller's fault.
 * `query` (a search) is served before `bulk` work (upserts) by a model in worker threads.
 */
export async function embedTexts(
  provider: EmbeddingProvider,
  texts: string[],
  priority: EmbedPriority,
): Promise<EmbedResult> {
  let result: EmbedResult;
  try {
    result = await provider.embed(texts, { priority });
  } catch (error) {
    const reason = error instanceof EmbeddingRequestError ? `: ${error.message}` : "";
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: `The embedding model (${provider.name}) failed${reason}; quote the requestId to an operator`,
      cause: error,
    });
  }
  const { vectors } = result;
  if (vectors.length !== texts.length || vectors.some((vector) => vector.length !== provider.dimension)) {
    throw new AppError({
      code: "INTERNAL",
      message: `The embedding model (${provider.name}) returned vectors of the wrong shape`,
    });
  }
  return result;
}
