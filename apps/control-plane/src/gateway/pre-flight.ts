/**
 * The record `max_batch_size` budgets for. A batch of that many such records always fits in the
 * gateway's body limit; bigger records need smaller batches (the README's table).
 *
 * - a 3072-d embedding (OpenAI's text-embedding-3-large, the largest in common use) written as
 *   JSON numbers, the way the Python client sends them: 25 bytes each at worst (a float32 widened
 *   to 17 significant digits with sign and comma; Python writes `-1.2345678901234567e-05,`,
 *   JavaScript `-0.000012345678901234567,`);
 * - 4 KiB for its id, document and metadata.
 *
 * The JS client sends embeddings as base64 (5.4 bytes per dimension), so its batches are far
 * smaller than this budget.
 */
export const REFERENCE_DIMENSION = 3_072;
export const JSON_NUMBER_BYTES = 25;
export const REFERENCE_EXTRA_BYTES = 4_096;
export const REFERENCE_RECORD_BYTES = REFERENCE_DIMENSION * JSON_NUMBER_BYTES + REFERENCE_EXTRA_BYTES;
/** The body's own keys, brackets and `include` list around the records. */
const ENVELOPE_BYTES = 1_024;

/**
 * The `max_batch_size` the gateway answers pre-flight with: the smallest of Chroma's own, the
 * tenant's plan's record quota and what the body limit holds of reference records (at least 1).
 *
 * @example
 * safeMaxBatchSize({ chromaMaxBatchSize: 5461, maxBodyBytes: 40 * 1024 * 1024, planMaxRecords: 10_000 }); // 518
 */
export function safeMaxBatchSize(opts: {
  chromaMaxBatchSize: number;
  maxBodyBytes: number;
  planMaxRecords: number | null;
}): number {
  const byBody = Math.floor((opts.maxBodyBytes - ENVELOPE_BYTES) / REFERENCE_RECORD_BYTES);
  return Math.max(1, Math.min(opts.chromaMaxBatchSize, opts.planMaxRecords ?? Infinity, byBody));
}
