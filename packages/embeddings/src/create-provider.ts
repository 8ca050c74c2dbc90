import { EmbeddingConfigError, EmbeddingMismatchError } from "./errors";
import { createHashProvider } from "./hash";
import { createOpenAIProvider } from "./openai";
import type { EmbeddingProvider, ProviderOptions } from "./provider";
import { createTransformersProvider } from "./transformers";
import { createUseLiteProvider } from "./use-lite";
import { createWorkerPoolProvider } from "./worker-pool";

const MODEL_FORMS = "use-lite, hash, openai:<model> or transformers:<model dir>";

/**
 * Creates the provider an instance's `MODEL_NAME` names:
 * `use-lite` (default, offline, 512-d) | `hash` | `openai:<model>` | `transformers:<model dir>`.
 * `hash` and `openai:*` need `dimension`; for the others it is checked against the model's own.
 * Every configuration problem is an {@link EmbeddingConfigError} thrown here, at creation.
 * With `workers`, `use-lite` and `transformers:*` embed in that many worker threads
 * ({@link createWorkerPoolProvider}); without, on the caller's thread.
 *
 * @example
 * ```ts
 * const provider = createEmbeddingProvider({ model: "use-lite" });
 * const tests = createEmbeddingProvider({ model: "hash", dimension: 384 });
 * const server = createEmbeddingProvider({ model: "use-lite", workers: 2 }); // two threads
 * const remote = createEmbeddingProvider({
 *   model: "openai:text-embedding-3-small",
 *   dimension: 1536,
 *   openai: { apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL },
 * });
 * ```
 */
export function createEmbeddingProvider(opts: ProviderOptions): EmbeddingProvider {
  const { model, dimension, workers, bulkNiceness, ...rest } = opts;
  if (workers !== undefined && (model === "use-lite" || model.startsWith("transformers:"))) {
    // The pool's threads create the same provider without `workers`, on their own thread.
    return createWorkerPoolProvider({ provider: { model, dimension, ...rest }, workers, bulkNiceness });
  }
  if (model === "use-lite") return createUseLiteProvider({ dimension });
  if (model === "hash") {
    return createHashProvider({ dimension: requireDimension(dimension, "hash", "e.g. 384") });
  }
  if (model.startsWith("openai:")) {
    const openaiModel = model.slice("openai:".length);
    if (openaiModel.trim() === "") {
      throw new EmbeddingConfigError(`"${model}" names no model: use e.g. openai:text-embedding-3-small`);
    }
    return createOpenAIProvider({
      model: openaiModel,
      dimension: requireDimension(dimension, model, "the length of the model's vectors, e.g. 1536"),
      apiKey: opts.openai?.apiKey,
      baseURL: opts.openai?.baseURL,
    });
  }
  if (model.startsWith("transformers:")) {
    const modelDir = model.slice("transformers:".length);
    if (modelDir.trim() === "") {
      throw new EmbeddingConfigError(
        `"${model}" names no model directory: use e.g. transformers:/models/all-MiniLM-L6-v2`,
      );
    }
    return createTransformersProvider({ modelDir, dimension });
  }
  throw new EmbeddingConfigError(`unknown embedding model "${model}": use ${MODEL_FORMS}`);
}

function requireDimension(dimension: number | undefined, model: string, hint: string): number {
  if (dimension === undefined) {
    throw new EmbeddingConfigError(`${model} needs an explicit dimension (${hint})`);
  }
  return dimension;
}

/**
 * Throws an {@link EmbeddingMismatchError} unless `provider` is the one `collection` was
 * created with (same name and dimension): vectors of different models are not comparable,
 * and Chroma would reject or, worse, silently mis-rank them.
 *
 * @example
 * ```ts
 * assertCompatible({ model: "use-lite", dimension: 512 }, createEmbeddingProvider({ model: "use-lite" })); // ok
 * assertCompatible({ model: "hash", dimension: 384 }, createEmbeddingProvider({ model: "use-lite" }));
 * // throws: the collection was created with hash (384-d) but this instance embeds with use-lite (512-d) …
 * ```
 */
export function assertCompatible(
  collection: { model: string; dimension: number },
  provider: EmbeddingProvider,
): void {
  if (collection.model === provider.name && collection.dimension === provider.dimension) return;
  throw new EmbeddingMismatchError(
    `the collection was created with ${collection.model} (${collection.dimension}-d) but this instance embeds ` +
      `with ${provider.name} (${provider.dimension}-d): use the same model and dimension, ` +
      "or re-create the collection with the current one",
  );
}
