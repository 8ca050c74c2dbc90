import { newId } from "@vdb/schemas/ids";
import { describe, expect, it } from "vitest";
import { hnswIndexMb, loadInstanceConfig, poolHnswCacheCapacity } from "./config";

const poolEnv = (env: Record<string, string> = {}) => ({
  POOL_ID: newId("pool"),
  JWKS_URL: "http://127.0.0.1:9/.well-known/jwks.json",
  TOKEN_ISSUER: "http://127.0.0.1:9",
  ...env,
});

describe("a pool's HNSW index cache", () => {
  it("is sized from POOL_CHROMA_INDEX_MEMORY_MB and the pool's dimension", () => {
    // Chroma 1.0's 10,000 slots of a 512-d vector with its links and label: ~20.9 MB, plus 3.5.
    expect(hnswIndexMb(512)).toBeCloseTo(24.37, 2);
    expect(poolHnswCacheCapacity(loadInstanceConfig(poolEnv({ DIMENSION: "512" })))).toBe(63);
    expect(poolHnswCacheCapacity(loadInstanceConfig(poolEnv({ DIMENSION: "1536" })))).toBe(24);
    expect(
      poolHnswCacheCapacity(
        loadInstanceConfig(poolEnv({ DIMENSION: "512", POOL_CHROMA_INDEX_MEMORY_MB: "2560" })),
      ),
    ).toBe(105);
  });

  it("keeps at least one index, and POOL_CHROMA_HNSW_CACHE sets the count outright", () => {
    expect(
      poolHnswCacheCapacity(
        loadInstanceConfig(poolEnv({ DIMENSION: "8192", POOL_CHROMA_INDEX_MEMORY_MB: "1" })),
      ),
    ).toBe(1);
    expect(poolHnswCacheCapacity(loadInstanceConfig(poolEnv({ POOL_CHROMA_HNSW_CACHE: "5" })))).toBe(5);
    // Empty, as a template leaves an unset variable: the budget decides.
    expect(poolHnswCacheCapacity(loadInstanceConfig(poolEnv({ POOL_CHROMA_HNSW_CACHE: "" })))).toBe(63);
  });

  it("refuses a count or budget that is not a positive integer", () => {
    expect(() => loadInstanceConfig(poolEnv({ POOL_CHROMA_HNSW_CACHE: "0" }))).toThrow(
      /POOL_CHROMA_HNSW_CACHE/,
    );
    expect(() => loadInstanceConfig(poolEnv({ POOL_CHROMA_INDEX_MEMORY_MB: "lots" }))).toThrow(
      /POOL_CHROMA_INDEX_MEMORY_MB/,
    );
  });
});
