/**
 * One interface for every embedding provider. A collection records `name` and `dimension`
 * at creation; writing or querying it with another provider is a clear error, not garbage.
 */
export interface EmbeddingProvider {
  /** Stable id stored with collections, e.g. `use-lite`, `hash`, `openai:text-embedding-3-small`. */
  readonly name: string;
  readonly dimension: number;
  /**
   * How many tokens of a text the model reads, when the provider knows; a longer text is embedded
   * from its first `maxInputTokens` tokens and its index is listed in `truncated`.
   */
  readonly maxInputTokens: number | null;
  /** Embeds texts in order; implementations batch internally and load their model once. */
  embed(texts: string[], options?: EmbedOptions): Promise<EmbedResult>;
  /** Releases what the provider holds (worker threads); in-process providers hold nothing. */
  close?(): Promise<void>;
}

export interface EmbedOptions {
  /**
   * Who waits for the vectors: `query` (a search, a person waiting on one short text) is served
   * before `bulk` (an upsert batch) by providers that queue work; default `bulk`.
   */
  priority?: EmbedPriority;
}

export type EmbedPriority = "query" | "bulk";

export interface EmbedResult {
  /** One vector per text, in input order. */
  vectors: number[][];
  /** Indexes (ascending) of the texts longer than `maxInputTokens`, embedded from their start only. */
  truncated: number[];
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
  /**
   * Worker threads for the models that compute on the CPU (`use-lite`, `transformers:*`): with
   * a number, they embed in that many threads, each with its own copy of the model, and never on
   * the caller's thread. Ignored by `hash` (linear and cheap) and `openai:*` (remote).
   */
  workers?: number;
  /** With `workers`: how much nicer than the process a thread is for bulk work (default 10, 0: as the process). */
  bulkNiceness?: number;
}
