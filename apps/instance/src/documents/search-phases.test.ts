import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceApi, startChroma, startTestInstance, type TestChroma, type TestInstance } from "../testing";

let chroma: TestChroma;
let instance: TestInstance;
let token: string;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "vdb-phases-"));
  file = path.join(dir, "phases.jsonl");
  chroma = await startChroma();
  instance = await startTestInstance({ chromaUrl: chroma.url, env: { SEARCH_PHASES_FILE: file } });
  token = await instance.token(["read", "write"]);
});
afterAll(async () => {
  await instance?.close();
  await chroma?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("SEARCH_PHASES_FILE", () => {
  it("gets one line per search with the time of each phase its mode ran", async () => {
    const call = (body: unknown) => instanceApi(instance.url, "POST", "/search", { token, body });
    const embed = await instanceApi(instance.url, "POST", "/embed", {
      token,
      body: { collection: "timed", ids: ["a", "b"], documents: ["otters swim", "owls fly"] },
    });
    expect(embed.status).toBe(200);
    for (const mode of ["vector", "keyword", "hybrid"]) {
      expect((await call({ collection: "timed", query: "otters", mode })).status).toBe(200);
    }
    // Written in the background, at most half a second later.
    let lines: Record<string, unknown>[] = [];
    for (let wait = 0; lines.length < 3 && wait < 50; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const text = await readFile(file, "utf8").catch(() => "");
      lines = text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    }
    expect(lines.map((line) => line.mode)).toEqual(["vector", "keyword", "hybrid"]);
    const [vector, keyword, hybrid] = lines;
    const timed = expect.any(Number);
    expect(vector).toMatchObject({ embed: timed, chroma: timed, serialise: timed, total: timed });
    expect(keyword).toMatchObject({ keyword: timed, rows: timed, total: timed });
    expect(keyword).not.toHaveProperty("embed");
    expect(hybrid).toMatchObject({ embed: timed, keyword: timed, chroma: timed, fuse: timed, total: timed });
    for (const line of lines) expect(line.total).toBeGreaterThanOrEqual(line.serialise as number);
  });
});
