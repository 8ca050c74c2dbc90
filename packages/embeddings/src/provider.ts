/**
 * One interface for every embedding provider. A collection records `name` and `dimension`
 * at creation; writing or querying it with another provider is a clear error, not garbage.
 */
export interface EmbeddingProvider {
  /** Stable id stored with collections, e.g. `use-lite`, `hash`, `openai:text-embedding-3-small`. */
  readonly name: string;
  readonly dimension: number;
  /** Embeds texts in order; implementations batch internally and load their model once. */
  embed(texts: string[]): Promise<number[][]>;
}

/**
 * How an instance names its model in `MODEL_NAME`:
 * - `use-lite`: Universal Sentence Encoder lite, 512-d, weights shipped in npm (default, offline);
 * - `hash`: deterministic feature hashing of any `DIMENSION` (tests, last resort);
 * - `openai:<model>`: any OpenAI-compatible endpoint (`OPENAI_API_KEY`, `OPENAI_BASE_URL`);
 * - `transformers:<model dir>`: transformers.js with a local model directory.
 */
export interface ProviderOptions {
  model: string;
  /** Required for `hash` and `openai:*`; checked against the model's own for the others. */
  dimension?: number;
  openai?: { apiKey?: string; baseURL?: string };
}
