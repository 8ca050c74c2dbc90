import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CachedRow } from "../documents/row-cache";
import { KeywordIndex } from "./keyword-index";
import { RowsFile } from "./keyword-rows";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "vdb-rows-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Appends the rows and puts them into the index, as the keyword indexes do. */
async function put(index: KeywordIndex, rows: RowsFile, records: CachedRow[]) {
  const locations = await rows.append(records);
  index.upsert(records.map((record, i) => ({ id: record.id, text: record.document, row: locations[i] })));
}

async function readAll(index: KeywordIndex, rows: RowsFile, ids: string[]) {
  const locations = ids.flatMap((id) => {
    const row = index.rowOf(id);
    return row ? [{ id, row }] : [];
  });
  return rows.read(locations);
}

describe("RowsFile", () => {
  it("reads back each row as written, whatever its text (quotes, newlines, non-Latin script)", async () => {
    const file = path.join(dir, "c.rows");
    const { rows, commit } = await RowsFile.create(file);
    await commit();
    const index = KeywordIndex.empty();
    const records: CachedRow[] = [
      { id: "a", document: 'He said "hi"\nthen left', metadata: { n: 1, ok: true, tag: "x" } },
      { id: "b", document: "Ωμέγα 日本語 emoji 🦦", metadata: null },
      { id: "c", document: "plain", metadata: { nested: "no", f: 1.5 } },
    ];
    await put(index, rows, records);
    const { rows: read, corrupt } = await readAll(index, rows, ["c", "a", "b", "missing"]);
    expect(corrupt).toEqual([]);
    expect(Object.fromEntries(read)).toEqual(
      Object.fromEntries(records.map((record) => [record.id, record])),
    );
    expect((await stat(file)).size).toBe(rows.bytes);
  });

  it("rewritten without its dead rows, keeps every live one where the index finds it", async () => {
    const file = path.join(dir, "c.rows");
    const { rows, commit } = await RowsFile.create(file);
    await commit();
    const index = KeywordIndex.empty();
    const ids = Array.from({ length: 200 }, (_, i) => `r${i}`);
    // Every record written three times, then a third of them removed: two thirds of the file is dead.
    for (let version = 1; version <= 3; version++) {
      await put(
        index,
        rows,
        ids.map((id) => ({ id, document: `${id} version ${version} words`, metadata: { version } })),
      );
    }
    index.remove(ids.filter((_, i) => i % 3 === 0));
    const live = ids.filter((_, i) => i % 3 !== 0);
    const before = await readAll(index, rows, ids);
    expect(before.rows.size).toBe(live.length);

    const { rows: rewritten, moved } = await rows.rewrite(file, index);
    index.moveRows(moved);
    expect(rewritten.bytes).toBe(index.rowBytes);
    expect(rewritten.bytes).toBeLessThan(rows.bytes / 4);
    expect((await readFile(file)).length).toBe(rewritten.bytes);
    const after = await readAll(index, rewritten, ids);
    expect(after.corrupt).toEqual([]);
    expect(Object.fromEntries(after.rows)).toEqual(Object.fromEntries(before.rows));
    expect(after.rows.get("r1")).toEqual({
      id: "r1",
      document: "r1 version 3 words",
      metadata: { version: 3 },
    });
    // The index saved and loaded keeps where each row is.
    const loaded = KeywordIndex.fromJSON(index.toJSON());
    expect(Object.fromEntries((await readAll(loaded, rewritten, ids)).rows)).toEqual(
      Object.fromEntries(before.rows),
    );
  });

  it("a row changed on disk, even by one byte, is reported rather than served", async () => {
    const file = path.join(dir, "c.rows");
    const { rows, commit } = await RowsFile.create(file);
    await commit();
    const index = KeywordIndex.empty();
    await put(index, rows, [
      { id: "a", document: "the otter swims", metadata: { n: 1 } },
      { id: "b", document: "the heron waits", metadata: { n: 2 } },
    ]);
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace("otter", "oTter").replace('"n":2', '"n":3'));
    const { rows: read, corrupt } = await readAll(index, rows, ["a", "b"]);
    expect(read.size).toBe(0);
    expect(corrupt.sort()).toEqual(["a", "b"]);
  });

  it("a saved file shorter than its snapshot says is not opened", async () => {
    const file = path.join(dir, "c.rows");
    const { rows, commit } = await RowsFile.create(file);
    await commit();
    await rows.append([{ id: "a", document: "text", metadata: null }]);
    expect(await RowsFile.open(file, rows.bytes)).not.toBeNull();
    expect(await RowsFile.open(file, rows.bytes + 1)).toBeNull();
    expect(await RowsFile.open(path.join(dir, "none.rows"), 0)).toBeNull();
  });
});
