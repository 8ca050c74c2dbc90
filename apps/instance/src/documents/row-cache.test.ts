import type { Collection } from "chromadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWriteLock } from "../services";
import { startChroma, type TestChroma } from "../testing";
import { createRowCache } from "./row-cache";

let chroma: TestChroma;
let collection: Collection;
const embedding = [1, 0, 0];

beforeAll(async () => {
  chroma = await startChroma();
  collection = await chroma.client().createCollection({ name: "rows", embeddingFunction: null });
  await collection.add({
    ids: ["a", "b", "c"],
    documents: ["alpha", "beta", "gamma"],
    metadatas: [{ n: 1 }, { n: 2 }, { n: 3 }],
    embeddings: [embedding, embedding, embedding],
  });
}, 120_000);

afterAll(async () => {
  await chroma?.stop();
});

/** Changes a record in Chroma behind the cache's back (no write lock): what a cached read would miss. */
const changeBehindTheLock = (id: string, document: string) =>
  collection.update({
    ids: [id],
    documents: [document],
    metadatas: [{ changed: true }],
    embeddings: [embedding],
  });

describe("row cache", () => {
  it("serves a record's document and metadata from memory until a write under the namespace's lock", async () => {
    const cache = createRowCache({ maxBytes: 1024 * 1024 });
    const where = { chromaUrl: chroma.url, writeLock: createWriteLock() };
    const first = await cache.read(where, collection, ["a", "b", "missing"]);
    expect([...first.values()]).toEqual([
      { id: "a", document: "alpha", metadata: { n: 1 } },
      { id: "b", document: "beta", metadata: { n: 2 } },
    ]);
    expect(cache.stats().rows).toBe(2);

    await changeBehindTheLock("a", "alpha changed");
    // Kept: Chroma was not asked again.
    expect((await cache.read(where, collection, ["a"])).get("a")?.document).toBe("alpha");
    // Any write through the lock (here an empty one) makes every row read before it stale.
    await where.writeLock.run(async () => undefined);
    expect((await cache.read(where, collection, ["a"])).get("a")).toEqual({
      id: "a",
      document: "alpha changed",
      metadata: { n: 1, changed: true }, // Chroma's update merges metadata
    });
  });

  it("keeps no read that a write overlapped, neither one that began during it nor one it began during", async () => {
    const cache = createRowCache({ maxBytes: 1024 * 1024 });
    const writeLock = createWriteLock();
    const where = { chromaUrl: chroma.url, writeLock };

    let finishWrite!: () => void;
    const writing = writeLock.run(() => new Promise<void>((resolve) => (finishWrite = resolve)));
    await Promise.resolve();
    expect(writeLock.version()).toBeNull();
    expect((await cache.read(where, collection, ["b"])).get("b")?.document).toBe("beta");
    expect(cache.stats().rows).toBe(0);
    finishWrite();
    await writing;

    const reading = cache.read(where, collection, ["c"]);
    const written = writeLock.run(async () => undefined);
    expect((await reading).get("c")?.document).toBe("gamma");
    await written;
    expect(cache.stats().rows).toBe(0);
  });

  it("keeps each namespace's rows apart, and two locks never share a version", async () => {
    const cache = createRowCache({ maxBytes: 1024 * 1024 });
    const lockA = createWriteLock();
    const lockB = createWriteLock();
    expect(lockA.version()).not.toBe(lockB.version());
    await cache.read({ chromaUrl: chroma.url, writeLock: lockA }, collection, ["c"]);
    await changeBehindTheLock("c", "gamma changed");
    // The same collection id named in another namespace is not served the first one's rows
    // (Chroma itself answers for an id whatever tenant the path names: the key must not).
    const elsewhere = { id: collection.id, tenant: "other_tenant", database: collection.database };
    const throughElsewhere = await cache.read({ chromaUrl: chroma.url, writeLock: lockA }, elsewhere, ["c"]);
    expect(throughElsewhere.get("c")?.document).toBe("gamma changed");
    expect(
      (await cache.read({ chromaUrl: chroma.url, writeLock: lockA }, collection, ["c"])).get("c")?.document,
    ).toBe("gamma");
    // Another lock's reads (a pool tenant reloaded makes a new one) find nothing of the first's.
    const throughB = await cache.read({ chromaUrl: chroma.url, writeLock: lockB }, collection, ["c"]);
    expect(throughB.get("c")?.document).toBe("gamma changed");
  });

  it("stays within its byte budget, and holds nothing at 0", async () => {
    const cache = createRowCache({ maxBytes: 500 });
    const where = { chromaUrl: chroma.url, writeLock: createWriteLock() };
    const found = await cache.read(where, collection, ["a", "b", "c"]);
    expect(found.size).toBe(3);
    expect(cache.stats().bytes).toBeLessThanOrEqual(500);
    expect(cache.stats().rows).toBeLessThan(3);

    const off = createRowCache({ maxBytes: 0 });
    expect((await off.read(where, collection, ["a"])).get("a")?.document).toBe("alpha changed");
    expect(off.stats()).toEqual({ rows: 0, bytes: 0, maxBytes: 0 });
  });
});
