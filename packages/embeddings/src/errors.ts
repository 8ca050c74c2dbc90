/**
 * A provider cannot be created as configured: unknown model name, missing or wrong dimension,
 * missing API key, missing model files. An operator fixes these in the instance's config.
 *
 * @example
 * ```ts
 * try {
 *   createEmbeddingProvider({ model: "hash" });
 * } catch (error) {
 *   if (error instanceof EmbeddingConfigError) console.error(error.message); // asks for a dimension
 * }
 * ```
 */
export class EmbeddingConfigError extends Error {
  override readonly name = "EmbeddingConfigError";
}

/**
 * A collection was created with another provider (name or dimension) than the one in use:
 * writing or querying it would mix incomparable vectors.
 *
 * @example
 * ```ts
 * if (error instanceof EmbeddingMismatchError) return conflict(error.message);
 * ```
 */
export class EmbeddingMismatchError extends Error {
  override readonly name = "EmbeddingMismatchError";
}

/**
 * Embedding failed at run time: the remote endpoint refused or failed, returned vectors of the
 * wrong length, or the local model could not run. The original error, if any, is the `cause`.
 *
 * @example
 * ```ts
 * if (error instanceof EmbeddingRequestError) return unavailable(error.message);
 * ```
 */
export class EmbeddingRequestError extends Error {
  override readonly name = "EmbeddingRequestError";
}
