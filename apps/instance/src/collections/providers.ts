import { createEmbeddingProvider } from "@vdb/embeddings/create-provider";
import { EmbeddingConfigError } from "@vdb/embeddings/errors";
import type { EmbeddingProvider } from "@vdb/embeddings/provider";
import { AppError } from "@vdb/http/errors";
import { assertProviderMatches, type ChromaCollection, modelOf } from "./chroma-collections";

/**
 * The embedding providers of one instance: its default (`MODEL_NAME`) and, on demand, the model
 * a collection was created with. Each collection records its model, so one instance can hold
 * collections of several models (seed 004: "a named database with a chosen embedding model").
 *
 * Which models a collection may use: the default; `use-lite` (offline, loaded on first use);
 * `hash` (any dimension); `openai:<model>` only when the instance has an OpenAI key or base
 * URL. `transformers:<dir>` only as the default: a collection must not make the instance load
 * an arbitrary directory.
 */
export interface ProviderRegistry {
  readonly defaultProvider: EmbeddingProvider;
  /** The provider for `model`; a clear 400 when this instance cannot embed with it. */
  forModel(model: { model: string; dimension?: number }): EmbeddingProvider;
  /** Model names a collection may be created with here. */
  available(): string[];
}

export function createProviderRegistry(opts: {
  defaultProvider: EmbeddingProvider;
  openai?: { apiKey?: string; baseURL?: string };
  /** Worker threads for a CPU model created here (use-lite), as for the default (EMBED_WORKERS). */
  workers?: number;
  /** Their niceness for bulk work, as for the default (EMBED_BULK_NICENESS). */
  bulkNiceness?: number;
}): ProviderRegistry {
  const { defaultProvider } = opts;
  const openaiConfigured = Boolean(opts.openai?.apiKey || opts.openai?.baseURL);
  const cache = new Map<string, EmbeddingProvider>();

  const available = () => {
    const names = new Set([defaultProvider.name, "use-lite", "hash"]);
    if (openaiConfigured) names.add("openai:<model>");
    return [...names];
  };

  const refuse = (message: string): never => {
    throw new AppError({ code: "BAD_REQUEST", message });
  };

  return {
    defaultProvider,
    available,
    forModel({ model, dimension }) {
      if (
        model === defaultProvider.name &&
        (dimension === undefined || dimension === defaultProvider.dimension)
      ) {
        return defaultProvider;
      }
      if (model.startsWith("transformers:")) {
        refuse(`Model "${model}" is not this instance's; collections here may use ${available().join(", ")}`);
      }
      if (model.startsWith("openai:") && !openaiConfigured) {
        refuse(
          `Model "${model}" needs an OpenAI key on the instance; collections here may use ${available().join(", ")}`,
        );
      }
      if (model !== "use-lite" && model !== "hash" && !model.startsWith("openai:")) {
        refuse(`Unknown embedding model "${model}"; collections here may use ${available().join(", ")}`);
      }
      const key = `${model}/${dimension ?? ""}`;
      const cached = cache.get(key);
      if (cached) return cached;
      try {
        const provider = createEmbeddingProvider({
          model,
          ...(dimension === undefined ? {} : { dimension }),
          ...(opts.openai ? { openai: opts.openai } : {}),
          ...(opts.workers === undefined ? {} : { workers: opts.workers }),
          ...(opts.bulkNiceness === undefined ? {} : { bulkNiceness: opts.bulkNiceness }),
        });
        cache.set(key, provider);
        return provider;
      } catch (error) {
        if (error instanceof EmbeddingConfigError) refuse(`Model "${model}": ${error.message}`);
        throw error;
      }
    },
  };
}

/**
 * The provider text for `collection` must be embedded with: the model it records. Collections
 * made outside the instance record none, so only precomputed vectors may go into them.
 */
export function providerForCollection(
  registry: ProviderRegistry,
  collection: ChromaCollection,
): EmbeddingProvider {
  const model = modelOf(collection);
  if (model.model === "unknown") assertProviderMatches(collection, registry.defaultProvider);
  return registry.forModel(model);
}
