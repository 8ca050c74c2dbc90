import { describe, expect, it } from "vitest";
import { embedBatchSize } from "./ingest-job";

describe("embedBatchSize", () => {
  it("cuts a small document into at least four progress steps, never below 8 chunks a batch", () => {
    expect(embedBatchSize(1)).toBe(8);
    expect(embedBatchSize(20)).toBe(8); // 8, 16, 20
    expect(embedBatchSize(100)).toBe(25); // 25, 50, 75, 100
    expect(Math.ceil(100 / embedBatchSize(100))).toBe(4);
  });

  it("sends full batches of 64 from 256 chunks up", () => {
    expect(embedBatchSize(255)).toBe(64);
    expect(embedBatchSize(256)).toBe(64);
    expect(embedBatchSize(5_000)).toBe(64);
  });
});
