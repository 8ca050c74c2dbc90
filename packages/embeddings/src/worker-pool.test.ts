import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { createEmbeddingProvider } from "./create-provider";
import { EmbeddingConfigError, EmbeddingRequestError } from "./errors";
import type { EmbeddingProvider } from "./provider";
import { FAILING_WORKER_FILE } from "./testing";
import { createUseLiteProvider } from "./use-lite";
import { BULK_NICENESS, createWorkerPoolProvider, TEXTS_PER_TASK } from "./worker-pool";

const texts = Array.from(
  { length: 40 },
  (_, index) => `Note ${index}: ${["cats", "invoices", "rain", "football", "bread"][index % 5]} and more`,
);

// The real model in real worker threads.
describe("worker pool with use-lite", () => {
  const pool = createEmbeddingProvider({ model: "use-lite", workers: 2 });
  afterAll(() => pool.close?.());

  it("gives the same vectors, in the same order, as the model on this thread, and maps truncated indexes", async () => {
    const inputs = [...texts, "word ".repeat(1_000), "last"];
    const [pooled, local] = await Promise.all([pool.embed(inputs), createUseLiteProvider().embed(inputs)]);
    expect(pool).toMatchObject({ name: "use-lite", dimension: 512, maxInputTokens: 128 });
    expect(pooled.vectors).toHaveLength(inputs.length);
    expect(pooled.truncated).toEqual([texts.length]);
    pooled.vectors.forEach((vector, index) => {
      const expected = local.vectors[index]!;
      expect(
        Math.max(...vector.map((value, position) => Math.abs(value - expected[position]!))),
      ).toBeLessThan(1e-6);
    });
  });

  it("serves a query sent after a large batch before the batch completes", async () => {
    const order: string[] = [];
    const batch = pool.embed(Array.from({ length: 5 }, () => texts).flat()).then((result) => {
      order.push("batch");
      return result;
    });
    const query = pool.embed(["how do I file an invoice?"], { priority: "query" }).then((result) => {
      order.push("query");
      return result;
    });
    const [batchResult, queryResult] = await Promise.all([batch, query]);
    expect(order).toEqual(["query", "batch"]);
    expect(batchResult.vectors).toHaveLength(200);
    expect(queryResult.vectors).toHaveLength(1);
  });

  it("serves a small batch sent after a large one before the large one completes (turns between batches)", async () => {
    const order: string[] = [];
    const large = pool.embed(Array.from({ length: 4 }, () => texts).flat()).then(() => order.push("large"));
    const small = pool.embed(texts.slice(0, TEXTS_PER_TASK)).then(() => order.push("small"));
    await Promise.all([large, small]);
    expect(order).toEqual(["small", "large"]);
  });
});

/** The niceness of each of this process's threads (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNiceness(): number[] {
  return readdirSync("/proc/self/task").flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces), from field 3 on.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return [Number(fields[19 - 3])];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

describe.runIf(process.platform === "linux")("worker pool thread niceness", () => {
  const pool = createEmbeddingProvider({ model: "use-lite", workers: 1 });
  afterAll(() => pool.close?.());

  it(`embeds bulk work on a thread niced by ${BULK_NICENESS}, and a query at the process's own`, async () => {
    const processNiceness = getPriority();
    await pool.embed(texts.slice(0, 3), { priority: "query" });
    expect(threadNiceness().filter((niceness) => niceness !== processNiceness)).toEqual([]);
    await pool.embed(texts.slice(0, 3));
    // The one worker thread, niced; every other thread of the process as it was.
    expect(threadNiceness().filter((niceness) => niceness !== processNiceness)).toEqual([
      processNiceness + BULK_NICENESS,
    ]);
    await pool.embed(texts.slice(0, 3), { priority: "query" });
    expect(threadNiceness().filter((niceness) => niceness !== processNiceness)).toEqual([]);
  });
});

describe("worker pool failures", () => {
  const failing = () =>
    createWorkerPoolProvider({
      provider: { model: "hash", dimension: 2 },
      workers: 2,
      workerFile: FAILING_WORKER_FILE,
    });
  const pools: EmbeddingProvider[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close?.()));
  });

  it.each([
    ["throws", "throw", "the model failed on purpose"],
    ["dies", "exit", "worker exited with code: 3"],
  ])(
    "a thread that %s fails its request with a clear error; the pool keeps embedding",
    async (_, text, reason) => {
      const pool = failing();
      pools.push(pool);
      const unaffected = pool.embed(["fine", "also fine"]);
      const failed = pool.embed(["a", "b", text]);
      await expect(failed).rejects.toThrow(EmbeddingRequestError);
      await expect(failed).rejects.toThrow(
        `hash: the worker thread embedding this request failed (${reason}); other requests are not affected`,
      );
      expect((await unaffected).vectors).toEqual([
        [1, 0],
        [1, 0],
      ]);
      // Again and again: a new thread takes the failed one's place.
      for (let round = 0; round < 3; round++) {
        expect((await pool.embed(["after"])).vectors).toEqual([[1, 0]]);
        await expect(pool.embed([text])).rejects.toThrow(reason);
      }
    },
  );

  it("refuses a count of workers that is not a whole number of at least 1, and work once closed", async () => {
    for (const workers of [0, -1, 1.5, Number.NaN]) {
      expect(() => createWorkerPoolProvider({ provider: { model: "use-lite" }, workers })).toThrow(
        EmbeddingConfigError,
      );
    }
    const pool = failing();
    await pool.close();
    await expect(pool.embed(["a"])).rejects.toThrow("the embedding pool is closed");
  });

  it("checks the model's options on this thread, at creation", () => {
    expect(() => createEmbeddingProvider({ model: "use-lite", dimension: 384, workers: 2 })).toThrow(
      "use-lite always produces 512-d vectors",
    );
  });
});
