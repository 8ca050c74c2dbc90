import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { hashEmbedding } from "@vdb/embeddings/hash";
import { CHROMA_NAMESPACE } from "@vdb/schemas/chroma-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startChroma, startTestInstance, type TestChroma, type TestInstance } from "../testing";

let chroma: TestChroma;
let instance: TestInstance;
let token: string;
const call = (method: string, urlPath: string, body?: unknown, on: TestInstance = instance) =>
  instanceApi(on.url, method, urlPath, { token, body });

type Hit = {
  id: string;
  document?: string | null;
  metadata?: Record<string, unknown> | null;
  distance?: number | null;
  score: number;
  vectorScore?: number;
  keywordScore?: number;
  ranks?: { vector?: number | null; keyword?: number | null };
};

async function keywordIds(collection: string, query: string, extra: object = {}, on = instance) {
  const res = await call(
    "POST",
    "/search",
    { collection, query, mode: "keyword", nResults: 50, ...extra },
    on,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.results as Hit[]).map((hit) => hit.id);
}

/**
 * `others` records near the query vector of `word` (hash embeddings), none holding the word, and
 * one, `${prefix}${others}`, holding it whose vector points away from the query's (cosine distance
 * 2): a 100-deep vector ranking over more than 100 others does not reach it.
 */
async function embedFarRecord(opts: {
  collection: string;
  word: string;
  prefix: string;
  others: number;
  metadatas?: boolean;
}) {
  const query = hashEmbedding(opts.word, 64);
  const ids = Array.from({ length: opts.others + 1 }, (_, i) => `${opts.prefix}${i}`);
  const res = await call("POST", "/embed", {
    collection: opts.collection,
    ids,
    documents: ids.map((id, i) => (i === opts.others ? `the ${opts.word} record` : `filler ${id}`)),
    ...(opts.metadatas ? { metadatas: ids.map((_, i) => ({ n: i })) } : {}),
    embeddings: ids.map((_, i) =>
      i === opts.others
        ? query.map((x) => -x)
        : query.map((x, j) => x + (j === i % 64 ? 0.01 + i / 10_000 : 0)),
    ),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

beforeAll(async () => {
  chroma = await startChroma();
  instance = await startTestInstance({ chromaUrl: chroma.url });
  token = await instance.token(["write"]);
});
afterAll(async () => {
  await instance?.close();
  await chroma?.stop();
});

describe("keyword search follows every write path", () => {
  it("/embed adds and replaces text; /delete by id and by filter removes it", async () => {
    const embed = await call("POST", "/embed", {
      collection: "paths",
      ids: ["a", "b", "c"],
      documents: ["Zebras running across the savanna", "A quiet library of old books", "Penguins swim"],
      metadatas: [{ kind: "animal" }, { kind: "place" }, { kind: "animal" }],
    });
    expect(embed.status).toBe(200);
    // Stemmed: "run" finds "running"; stop words alone find nothing.
    expect(await keywordIds("paths", "zebra run")).toEqual(["a"]);
    expect(await keywordIds("paths", "the of a")).toEqual([]);

    await call("POST", "/embed", { collection: "paths", ids: ["a"], documents: ["Giraffes eating leaves"] });
    expect(await keywordIds("paths", "zebras")).toEqual([]);
    expect(await keywordIds("paths", "giraffe")).toEqual(["a"]);

    await call("POST", "/delete", { collection: "paths", ids: ["b"] });
    expect(await keywordIds("paths", "library")).toEqual([]);
    await call("POST", "/delete", { collection: "paths", where: { kind: "animal" } });
    expect(await keywordIds("paths", "penguins giraffes")).toEqual([]);
  });

  it("upserting vectors without documents follows what Chroma kept", async () => {
    await call("POST", "/embed", { collection: "novectors", ids: ["x"], documents: ["Volcanic islands"] });
    const vector = Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0));
    await call("POST", "/embed", { collection: "novectors", ids: ["x"], embeddings: [vector] });
    const stored = await instance.chroma.getCollection({ name: "novectors" });
    const { documents } = await stored.get({ ids: ["x"], include: ["documents"] });
    expect(await keywordIds("novectors", "volcanic")).toEqual(documents[0] ? ["x"] : []);
  });

  it("deleting a collection deletes its index: a new one of that name starts empty", async () => {
    await call("POST", "/embed", { collection: "short-lived", ids: ["k"], documents: ["Kangaroos hop"] });
    expect(await keywordIds("short-lived", "kangaroo")).toEqual(["k"]);
    expect((await call("DELETE", "/collections/short-lived")).status).toBe(200);
    await call("POST", "/embed", { collection: "short-lived", ids: ["m"], documents: ["Meerkats watch"] });
    expect(await keywordIds("short-lived", "kangaroo")).toEqual([]);
    expect(await keywordIds("short-lived", "meerkat")).toEqual(["m"]);
  });

  it("Chroma's API (the gateway's passthrough): add, upsert, update, delete by id and by filter", async () => {
    const chromaCall = (method: string, urlPath: string, body?: unknown) =>
      call(method, `/chroma${CHROMA_NAMESPACE}${urlPath}`, body);
    const created = await chromaCall("POST", "/collections", { name: "gateway" });
    expect(created.status).toBe(200);
    const id = created.body.id as string;
    const vectors = (n: number) => Array.from({ length: n }, (_, i) => [i + 1, 0.5, 0.25]);

    await chromaCall("POST", `/collections/${id}/add`, {
      ids: ["g1", "g2"],
      embeddings: vectors(2),
      documents: ["Tulips bloom in spring", "Maple leaves in autumn"],
      metadatas: [{ season: "spring" }, { season: "autumn" }],
    });
    expect(await keywordIds("gateway", "tulip")).toEqual(["g1"]);

    await chromaCall("POST", `/collections/${id}/upsert`, {
      ids: ["g3"],
      embeddings: vectors(1),
      documents: ["Snow covers pine trees"],
      metadatas: [{ season: "winter" }],
    });
    expect(await keywordIds("gateway", "pine snow")).toEqual(["g3"]);

    const updated = await chromaCall("POST", `/collections/${id}/update`, {
      ids: ["g1"],
      documents: ["Roses bloom in summer"],
    });
    expect(updated.status).toBeLessThan(300);
    expect(await keywordIds("gateway", "tulips")).toEqual([]);
    expect(await keywordIds("gateway", "roses")).toEqual(["g1"]);

    await chromaCall("POST", `/collections/${id}/delete`, { ids: ["g2"] });
    expect(await keywordIds("gateway", "maple")).toEqual([]);
    await chromaCall("POST", `/collections/${id}/delete`, { where: { season: "winter" } });
    expect(await keywordIds("gateway", "pine")).toEqual([]);
    expect(await keywordIds("gateway", "bloom")).toEqual(["g1"]);

    // A collection deleted through Chroma's API leaves no index behind.
    expect((await chromaCall("DELETE", "/collections/gateway")).status).toBeLessThan(300);
    const files = await readdir(path.join(instance.config.DATA_DIR, "keyword"));
    expect(files.filter((file) => file.startsWith(id))).toEqual([]);
  });
});

describe("a search's rows (read from the keyword index's rows file) follow every write", () => {
  it("a record that stays in the answer shows its new document and metadata after /embed and the gateway's update", async () => {
    const hits = async (mode: "keyword" | "hybrid") => {
      const res = await call("POST", "/search", { collection: "fresh", query: "otter", mode, nResults: 10 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return Object.fromEntries(
        (res.body.results as Hit[]).map((hit) => [
          hit.id,
          { document: hit.document, metadata: hit.metadata },
        ]),
      );
    };
    await call("POST", "/embed", {
      collection: "fresh",
      ids: ["o1", "o2", "o3"],
      documents: ["An otter floats", "Otter pups nap", "Sea otter cracks shells"],
      metadatas: [{ v: 1 }, { v: 1 }, { v: 1 }],
    });
    for (const mode of ["keyword", "hybrid", "keyword", "hybrid"] as const)
      expect((await hits(mode)).o1).toEqual({ document: "An otter floats", metadata: { v: 1 } });
    // Every row came from the rows file: none had to be read from Chroma (the row cache keeps those).
    const health = await call("GET", "/healthz");
    expect(health.body.rowCache.rows).toBe(0);

    await call("POST", "/embed", {
      collection: "fresh",
      ids: ["o1"],
      documents: ["An otter floats on its back"],
      metadatas: [{ v: 2 }],
    });
    for (const mode of ["keyword", "hybrid"] as const)
      expect((await hits(mode)).o1).toEqual({ document: "An otter floats on its back", metadata: { v: 2 } });

    const id = (await instance.chroma.getCollection({ name: "fresh" })).id;
    const updated = await call("POST", `/chroma${CHROMA_NAMESPACE}/collections/${id}/update`, {
      ids: ["o2"],
      metadatas: [{ v: 3 }],
    });
    expect(updated.status).toBeLessThan(300);
    for (const mode of ["keyword", "hybrid"] as const)
      expect((await hits(mode)).o2).toEqual({ document: "Otter pups nap", metadata: { v: 3 } });

    await call("POST", "/delete", { collection: "fresh", ids: ["o3"] });
    for (const mode of ["keyword", "hybrid"] as const)
      expect(Object.keys(await hits(mode)).sort()).toEqual(["o1", "o2"]);
  });
});

describe("search modes", () => {
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
  beforeAll(async () => {
    const res = await call("POST", "/embed", {
      collection: "modes",
      ids: words.map((_, i) => `w${i}`),
      documents: words.map(
        (word, i) => `${word} ${word} ${i % 2 === 0 ? "even" : "odd"} entry about ${word}s`,
      ),
      metadatas: words.map((_, i) => ({ parity: i % 2 === 0 ? "even" : "odd", n: i })),
    });
    expect(res.status).toBe(200);
  });

  it("keyword ranks by BM25, with each hit's score and rank", async () => {
    const res = await call("POST", "/search", { collection: "modes", query: "delta", mode: "keyword" });
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe("keyword");
    const [hit] = res.body.results as Hit[];
    expect(res.body.results).toHaveLength(1);
    expect(hit).toMatchObject({
      id: "w3",
      document: expect.stringContaining("delta"),
      ranks: { keyword: 1 },
    });
    expect(hit!.score).toBeGreaterThan(0);
    expect(hit!.keywordScore).toBe(hit!.score);
    // Keyword search never embeds the query: no distance, no vector similarity.
    expect(hit!.distance).toBeNull();
    expect(hit!.vectorScore).toBeUndefined();
  });

  it("hybrid is the default for a text: both rankings fused, each hit with its ranks", async () => {
    const res = await call("POST", "/search", { collection: "modes", query: "echo", nResults: 8 });
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe("hybrid");
    const hits = res.body.results as Hit[];
    expect(hits).toHaveLength(8);
    // The only keyword match is ranked by both, so it tops the fusion.
    expect(hits[0]).toMatchObject({ id: "w4", ranks: { keyword: 1 } });
    expect(hits[0]!.ranks!.vector).toBeGreaterThanOrEqual(1);
    for (const hit of hits.slice(1)) {
      // No query word in them: ranked by the vectors alone, with a BM25 score of 0.
      expect(hit.ranks!.keyword).toBeNull();
      expect(hit.keywordScore).toBe(0);
    }
    for (const hit of hits) {
      expect(hit.distance).toEqual(expect.any(Number));
      expect(hit.vectorScore).toBeCloseTo(1 - hit.distance!, 12);
    }
    const scores = hits.map((hit) => hit.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(hits[0]!.score).toBeCloseTo(1 / 61 + 1 / (60 + hits[0]!.ranks!.vector!), 10);
  });

  it("a hybrid hit only one ranking found still has both scores, exact", async () => {
    // Only one record holds the query's word, and its vector points away from the query's (cosine
    // distance 2): among 300 others near the query, the vector ranking (100 deep) does not reach it.
    await embedFarRecord({ collection: "deep", word: "narwhal", prefix: "d", others: 300 });

    const hybrid = await call("POST", "/search", { collection: "deep", query: "narwhal", nResults: 10 });
    expect(hybrid.status).toBe(200);
    const hits = hybrid.body.results as Hit[];
    const narwhal = hits.find((hit) => hit.id === "d300")!;
    expect(narwhal).toMatchObject({ ranks: { vector: null, keyword: 1 } });
    expect(narwhal.distance).toBeCloseTo(2, 5);
    expect(narwhal.vectorScore).toBeCloseTo(-1, 5);
    expect(narwhal.keywordScore).toBeGreaterThan(0);
    // And the others, found by the vectors alone, have no query word: BM25 0.
    for (const hit of hits.filter((other) => other !== narwhal)) {
      expect(hit.ranks!.keyword).toBeNull();
      expect(hit.keywordScore).toBe(0);
      expect(hit.vectorScore).toBeCloseTo(1 - hit.distance!, 12);
    }
  });

  it("a hybrid hit carries the record's fields and distance, whichever ranking found it", async () => {
    // Every record holds "entry", so fused hits come from deep in both rankings (below nResults).
    const search = (mode: string, nResults: number, include: string[]) =>
      call("POST", "/search", { collection: "modes", query: "entry hotel", mode, nResults, include });
    const include = ["documents", "metadatas", "distances", "embeddings"];
    // The same search without embeddings first: its rows are then in the row cache, which holds
    // no embeddings, so asked for they must still come.
    expect((await search("hybrid", 3, ["documents", "metadatas"])).status).toBe(200);
    const hybrid = await search("hybrid", 3, include);
    expect(hybrid.status).toBe(200);
    const vector = await search("vector", 8, include);
    const byId = new Map(
      (vector.body.results as (Hit & { embedding: number[] })[]).map((hit) => [hit.id, hit]),
    );
    const hits = hybrid.body.results as (Hit & { embedding: number[] })[];
    expect(hits).toHaveLength(3);
    expect(hits.some((hit) => hit.ranks!.vector! > 3 || hit.ranks!.keyword! > 3)).toBe(true);
    for (const hit of hits) {
      const same = byId.get(hit.id)!;
      expect(hit).toMatchObject({
        document: same.document,
        metadata: same.metadata,
        embedding: same.embedding,
      });
      expect(hit.distance).toBeCloseTo(same.distance!, 6);
    }
    // Without fields, ids and scores alone.
    const bare = await search("hybrid", 3, []);
    expect(bare.body.results.map((hit: Hit) => Object.keys(hit).sort())).toEqual(
      hits.map(() => ["id", "keywordScore", "ranks", "score", "vectorScore"]),
    );
    expect(bare.body.results.map((hit: Hit) => hit.id)).toEqual(hits.map((hit) => hit.id));
  });

  it("with the default fields, a hybrid hit has its record's document, metadata and distance, whichever ranking found it", async () => {
    // The keyword hits' rows are read while the query is embedded; the others' after fusion.
    for (const query of ["echo", "entry hotel"]) {
      const vector = await call("POST", "/search", {
        collection: "modes",
        query,
        mode: "vector",
        nResults: 8,
      });
      const byId = new Map((vector.body.results as Hit[]).map((hit) => [hit.id, hit]));
      const hybrid = await call("POST", "/search", { collection: "modes", query, nResults: 8 });
      expect(hybrid.status).toBe(200);
      const hits = hybrid.body.results as Hit[];
      expect(hits).toHaveLength(8);
      for (const hit of hits) {
        const same = byId.get(hit.id)!;
        expect(hit).toMatchObject({ document: same.document, metadata: same.metadata });
        expect(hit.document).toEqual(expect.stringContaining(" entry about "));
        expect(hit.distance).toBeCloseTo(same.distance!, 6);
      }
      // "echo": one hit of both rankings, seven of the vectors alone; "entry hotel": all of both.
      const vectorOnly = hits.filter((hit) => hit.ranks!.keyword === null).length;
      expect(vectorOnly).toBe(query === "echo" ? 7 : 0);
    }

    // A hit only the keyword ranking found (its vector points away from the query's). With 150
    // others, Chroma's HNSW search (approximate, 100 deep) once ranked it 87th: 300, as above.
    await embedFarRecord({
      collection: "deep-fields",
      word: "walrus",
      prefix: "f",
      others: 300,
      metadatas: true,
    });
    const hybrid = await call("POST", "/search", {
      collection: "deep-fields",
      query: "walrus",
      nResults: 10,
    });
    const walrus = (hybrid.body.results as Hit[]).find((hit) => hit.id === "f300")!;
    expect(walrus).toMatchObject({
      document: "the walrus record",
      metadata: { n: 300 },
      ranks: { vector: null, keyword: 1 },
    });
    expect(walrus.distance).toBeCloseTo(2, 5);
  });

  it("vector mode ranks by distance, as before", async () => {
    const res = await call("POST", "/search", {
      collection: "modes",
      query: "echo",
      mode: "vector",
      nResults: 3,
    });
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe("vector");
    const hits = res.body.results as Hit[];
    const distances = hits.map((hit) => hit.distance!);
    expect(distances).toHaveLength(3);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(hits[0]!.ranks).toBeUndefined();
    // Its score is the similarity, 1 − distance, with or without distances included.
    for (const hit of hits) {
      expect(hit.score).toBeCloseTo(1 - hit.distance!, 12);
      expect(hit.vectorScore).toBe(hit.score);
      expect(hit.keywordScore).toBeUndefined();
    }
    const withoutDistances = await call("POST", "/search", {
      collection: "modes",
      query: "echo",
      mode: "vector",
      nResults: 3,
      include: [],
    });
    expect(withoutDistances.body.results).toEqual(
      hits.map(({ id, score, vectorScore }) => ({ id, score, vectorScore })),
    );
  });

  it("metadata and content filters apply in every mode", async () => {
    for (const mode of ["vector", "keyword", "hybrid"]) {
      const res = await call("POST", "/search", {
        collection: "modes",
        query: "entry about alphas bravos charlies deltas",
        mode,
        where: { parity: "odd" },
        whereDocument: { $contains: "bravo" },
      });
      expect(res.status).toBe(200);
      expect((res.body.results as Hit[]).map((hit) => hit.id)).toEqual(["w1"]);
    }
    const keywordOdd = await keywordIds("modes", "entry", { where: { parity: "odd" } });
    expect(keywordOdd.sort()).toEqual(["w1", "w3", "w5", "w7"]);
  });

  it("a query vector searches by vector; keyword and hybrid refuse it with a 400", async () => {
    const queryEmbedding = Array.from({ length: 64 }, (_, i) => (i === 3 ? 1 : 0));
    const byDefault = await call("POST", "/search", { collection: "modes", queryEmbedding });
    expect(byDefault.status).toBe(200);
    expect(byDefault.body.mode).toBe("vector");
    for (const mode of ["keyword", "hybrid"]) {
      const res = await call("POST", "/search", { collection: "modes", queryEmbedding, mode });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
      expect(res.body.error.message).toMatch(/need a query text/);
    }
    const unknown = await call("POST", "/search", { collection: "modes", query: "x", mode: "sparse" });
    expect(unknown.status).toBe(400);
  });
});

describe("the saved index", () => {
  const documents = Array.from(
    { length: 60 },
    (_, i) =>
      `Record ${i} mentions ${["rivers", "mountains", "deserts"][i % 3]} and ${i % 7 === 0 ? "lighthouses" : "harbours"}`,
  );
  const keywordDir = () => path.join(instance.config.DATA_DIR, "keyword");

  async function waitForSaved(dir: string) {
    for (;;) {
      const files = await readdir(dir).catch(() => [] as string[]);
      if (files.some((file) => file.endsWith(".json")) && !files.some((file) => file.endsWith(".dirty")))
        return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function searchAll(on: TestInstance) {
    const results = [];
    for (const query of ["rivers lighthouses", "mountains", "record 12", "harbours deserts"]) {
      for (const mode of ["keyword", "hybrid"]) {
        const res = await call("POST", "/search", { collection: "saved", query, mode, nResults: 20 }, on);
        expect(res.status).toBe(200);
        results.push(
          (res.body.results as Hit[]).map((hit) => ({
            id: hit.id,
            score: Number(hit.score!.toFixed(9)),
            document: hit.document,
            metadata: hit.metadata,
          })),
        );
      }
    }
    return results;
  }

  /** Another instance on the same Chroma, reading its keyword indexes from `dataDir`. */
  async function restartOn(dataDir: string) {
    return startTestInstance({
      chromaUrl: chroma.url,
      issuer: instance.issuer,
      env: { DATA_DIR: dataDir, TENANT_ID: instance.config.TENANT_ID },
    });
  }

  async function copyOfDataDir() {
    const copy = await mkdtemp(path.join(os.tmpdir(), "vdb-instance-copy-"));
    await cp(instance.config.DATA_DIR, copy, { recursive: true });
    return copy;
  }

  beforeAll(async () => {
    const res = await call("POST", "/embed", {
      collection: "saved",
      ids: documents.map((_, i) => `r${i}`),
      documents,
      metadatas: documents.map((_, i) => ({ n: i, odd: i % 2 === 1 })),
    });
    expect(res.status).toBe(200);
    await waitForSaved(keywordDir());
  });

  it("gives identical results after a restart, whether its files are kept, deleted or corrupted", async () => {
    const before = await searchAll(instance);
    expect(before[0]!.length).toBeGreaterThan(0);
    const damages = [
      "none",
      "delete",
      "corrupt",
      "truncate",
      "delete rows",
      "truncate rows",
      "overwrite rows",
      "edit a row",
    ];
    for (const damage of damages) {
      const dataDir = await copyOfDataDir();
      const dir = path.join(dataDir, "keyword");
      for (const file of await readdir(dir)) {
        const at = path.join(dir, file);
        if (file.endsWith(".json")) {
          if (damage === "delete") await rm(at);
          if (damage === "corrupt") await writeFile(at, '{"format":1}\n{"not":"an index"}');
          if (damage === "truncate") await writeFile(at, "");
        }
        if (file.endsWith(".rows")) {
          if (damage === "delete rows") await rm(at);
          if (damage === "truncate rows") await writeFile(at, (await readFile(at)).subarray(0, 100));
          // As long as before, every byte changed: the saved index trusts the file, each row read fails its check.
          if (damage === "overwrite rows")
            await writeFile(at, Buffer.alloc((await readFile(at)).length, "x"));
          // One letter of one document, same length: the row's checksum tells it.
          if (damage === "edit a row")
            await writeFile(at, (await readFile(at, "utf8")).replace("mentions rivers", "mentions rivets"));
        }
      }
      const restarted = await restartOn(dataDir);
      try {
        expect(await searchAll(restarted), damage).toEqual(before);
      } finally {
        await restarted.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    }
  });

  it("a write whose index was never saved (a crash) is not lost: the marker makes it rebuild", async () => {
    await waitForSaved(keywordDir());
    // Chroma gets the write; the saved index is still the one from before it, with the marker.
    await call("POST", "/embed", {
      collection: "saved",
      ids: ["r1"],
      documents: ["Record 1 about volcanoes"],
    });
    const crashed = await copyOfDataDir();
    expect((await readdir(path.join(crashed, "keyword"))).some((file) => file.endsWith(".dirty"))).toBe(true);
    const restarted = await restartOn(crashed);
    try {
      expect(await keywordIds("saved", "volcanoes", {}, restarted)).toEqual(["r1"]);
      expect(await searchAll(restarted)).toEqual(await searchAll(instance));
    } finally {
      await restarted.close();
      await rm(crashed, { recursive: true, force: true });
    }
  });

  it("a saved index that no longer has Chroma's ids is rebuilt", async () => {
    await waitForSaved(keywordDir());
    const stale = await copyOfDataDir();
    // Written behind the instance's back (straight to Chroma): the saved index lacks r60.
    const collection = await instance.chroma.getCollection({ name: "saved" });
    await collection.add({
      ids: ["r60"],
      embeddings: [Array.from({ length: 64 }, () => 0.1)],
      documents: ["Record 60 about glaciers"],
    });
    const restarted = await restartOn(stale);
    try {
      expect(await keywordIds("saved", "glaciers", {}, restarted)).toEqual(["r60"]);
    } finally {
      await restarted.close();
      await rm(stale, { recursive: true, force: true });
    }
  });
});
