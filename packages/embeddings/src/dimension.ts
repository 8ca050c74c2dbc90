import { EmbeddingConfigError } from "./errors";

/** Chroma and every model we support stay far below this; a larger value is a typo. */
export const MAX_DIMENSION = 65_536;

/**
 * Throws an {@link EmbeddingConfigError} unless `dimension` is a whole number in 1..65536.
 *
 * @example
 * ```ts
 * assertValidDimension(384, "hash"); // ok
 * assertValidDimension(0, "hash"); // throws: hash: dimension must be a whole number from 1 to 65536, got 0
 * ```
 */
export function assertValidDimension(dimension: number, providerName: string): void {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
    throw new EmbeddingConfigError(
      `${providerName}: dimension must be a whole number from 1 to ${MAX_DIMENSION}, got ${dimension}`,
    );
  }
}
