import { describe, expect, it } from "vitest";
import { REFERENCE_DIMENSION, REFERENCE_EXTRA_BYTES, safeMaxBatchSize } from "./pre-flight";

const MiB = 1024 * 1024;

/** A batch of reference records as the Python client writes it, every number at its longest. */
function referenceBatch(records: number): string {
  const longestNumber = -1.2345678901234568e-5; // -0.000012345678901234568: 24 characters as JSON
  const embedding = Array.from({ length: REFERENCE_DIMENSION }, () => longestNumber);
  // The extra bytes go to the document, less the id and the JSON around them.
  const document = "d".repeat(REFERENCE_EXTRA_BYTES - 64);
  return JSON.stringify({
    ids: Array.from({ length: records }, (_, i) => `record-${String(i).padStart(40, "0")}`),
    embeddings: Array.from({ length: records }, () => embedding),
    documents: Array.from({ length: records }, () => document),
    metadatas: Array.from({ length: records }, () => null),
    uris: null,
  });
}

describe("safeMaxBatchSize", () => {
  it("is the smallest of Chroma's, the plan's and the body limit's", () => {
    expect(safeMaxBatchSize({ chromaMaxBatchSize: 5461, maxBodyBytes: 40 * MiB, planMaxRecords: 1e6 })).toBe(
      518,
    );
    expect(safeMaxBatchSize({ chromaMaxBatchSize: 100, maxBodyBytes: 40 * MiB, planMaxRecords: 1e6 })).toBe(
      100,
    );
    expect(safeMaxBatchSize({ chromaMaxBatchSize: 5461, maxBodyBytes: 40 * MiB, planMaxRecords: 50 })).toBe(
      50,
    );
    expect(safeMaxBatchSize({ chromaMaxBatchSize: 5461, maxBodyBytes: 1_024, planMaxRecords: null })).toBe(1);
  });

  it("a batch of that many reference records fits in the body limit", () => {
    for (const maxBodyBytes of [1 * MiB, 8 * MiB, 40 * MiB]) {
      const size = safeMaxBatchSize({ chromaMaxBatchSize: 5461, maxBodyBytes, planMaxRecords: null });
      expect(Buffer.byteLength(referenceBatch(size))).toBeLessThanOrEqual(maxBodyBytes);
    }
  });
});
