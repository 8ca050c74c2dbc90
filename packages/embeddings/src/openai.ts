import OpenAI from "openai";
import { assertValidDimension } from "./dimension";
import { EmbeddingConfigError, EmbeddingRequestError } from "./errors";
import type { EmbeddingProvider } from "./provider";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
/** OpenAI accepts up to 2,048 inputs per request; smaller requests fail and retry cheaper. */
const DEFAULT_BATCH_SIZE = 256;

export interface OpenAIProviderOptions {
  /** The endpoint's model id, e.g. `text-embedding-3-small`. */
  model: string;
  /** The length every returned vector must have. */
  dimension: number;
  apiKey?: string;
  /** Any OpenAI-compatible endpoint, e.g. `http://127.0.0.1:11434/v1`; OpenAI's own by default. */
  baseURL?: string;
  batchSize?: number;
  /** Retries of failed requests (429, 5xx, timeouts) by the SDK; default 2. */
  maxRetries?: number;
}

/**
 * Embeddings from any OpenAI-compatible `/embeddings` endpoint, through the official SDK.
 * Inputs go in batches of `batchSize` (256) and come back in input order (sorted by `index`);
 * every vector's length is checked against `dimension`.
 *
 * `dimensions` is sent only for `text-embedding-3*` models, the OpenAI models that can shorten
 * their vectors; other models (and many compatible servers) reject the parameter, so for them
 * `dimension` must be the model's native size.
 *
 * @example
 * ```ts
 * const provider = createOpenAIProvider({
 *   model: "text-embedding-3-small",
 *   dimension: 512,
 *   apiKey: config.OPENAI_API_KEY,
 * });
 * provider.name; // "openai:text-embedding-3-small"
 * const { vectors: [vector] } = await provider.embed(["hello"]); // vector.length === 512
 * ```
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): EmbeddingProvider {
  const { model, dimension, apiKey, batchSize = DEFAULT_BATCH_SIZE, maxRetries } = options;
  const name = `openai:${model}`;
  if (model.trim() === "") {
    throw new EmbeddingConfigError("openai: a model is required, e.g. openai:text-embedding-3-small");
  }
  assertValidDimension(dimension, name);
  if (!apiKey) {
    throw new EmbeddingConfigError(
      `${name}: an API key is required (set OPENAI_API_KEY; for a local server that ignores keys, any value)`,
    );
  }
  // All passed explicitly, so the SDK never falls back to reading process.env on its own.
  const baseURL = options.baseURL || DEFAULT_BASE_URL;
  const client = new OpenAI({
    apiKey,
    baseURL,
    organization: null,
    project: null,
    ...(maxRetries === undefined ? {} : { maxRetries }),
  });
  const sendsDimensions = model.startsWith("text-embedding-3");

  async function embedBatch(input: string[], offset: number): Promise<number[][]> {
    let response: OpenAI.CreateEmbeddingResponse;
    try {
      response = await client.embeddings.create({
        model,
        input,
        // Floats, not the SDK's default base64: not every compatible server implements base64.
        encoding_format: "float",
        ...(sendsDimensions ? { dimensions: dimension } : {}),
      });
    } catch (error) {
      throw new EmbeddingRequestError(
        `${name}: embedding request to ${baseURL} failed (${describeFailure(error)})`,
        {
          cause: error,
        },
      );
    }

    const vectors = new Array<number[] | undefined>(input.length);
    for (const item of response.data) {
      if (
        !Number.isInteger(item.index) ||
        item.index < 0 ||
        item.index >= input.length ||
        vectors[item.index]
      ) {
        throw new EmbeddingRequestError(
          `${name}: the endpoint returned an invalid or duplicate index ${item.index} for a batch of ${input.length}`,
        );
      }
      if (item.embedding.length !== dimension) {
        throw new EmbeddingRequestError(
          `${name}: the endpoint returned ${item.embedding.length}-d vectors but this provider is configured ` +
            `for ${dimension}-d; set the dimension to the model's size (or use a model that supports it)`,
        );
      }
      vectors[item.index] = item.embedding;
    }
    return vectors.map((vector, index) => {
      if (!vector) {
        throw new EmbeddingRequestError(
          `${name}: the endpoint returned no vector for input ${offset + index}`,
        );
      }
      return vector;
    });
  }

  return {
    name,
    dimension,
    // The endpoint's limit is its own (8,192 tokens for OpenAI's models): it refuses longer input.
    maxInputTokens: null,
    async embed(texts) {
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        vectors.push(...(await embedBatch(texts.slice(start, start + batchSize), start)));
      }
      return { vectors, truncated: [] };
    },
  };
}

/** The SDK's message ("401 Incorrect API key…", "Connection error.") and its causes ("ECONNREFUSED …"). */
function describeFailure(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  // fetch wraps the socket error twice; three levels reach it without risking a cycle.
  for (let depth = 0; depth < 3 && current !== undefined; depth++) {
    messages.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return messages.join(": ");
}
