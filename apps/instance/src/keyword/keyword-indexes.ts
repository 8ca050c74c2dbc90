import { createHash } from "node:crypto";
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { type ChromaCollectionRef, countInChroma, getFromChroma } from "../collections/chroma-query";
import type { CachedRow } from "../documents/row-cache";
import type { Logger } from "../logger";
import type { WriteLock } from "../services";
import { KeywordIndex } from "./keyword-index";
import { RowsFile } from "./keyword-rows";

/**
 * The BM25 index of every collection, kept beside Chroma (which has no sparse search on a single
 * node) in `DATA_DIR/keyword/`, one file per collection id, with the collection's rows (documents
 * and metadatas) in a `<id>.rows` file beside it (see keyword-rows), which searches read their
 * answers' rows from.
 *
 * Crash safety is write-ahead: before a write reaches Chroma, a `<id>.dirty` marker is put on
 * disk; it is removed only once a snapshot taken after the write is saved. An index is loaded
 * on its collection's first use and trusted only when there is no marker, its checksum holds,
 * its rows file is at least as long as when it was saved, and it has exactly Chroma's ids;
 * otherwise it is rebuilt from Chroma's documents and metadatas. A row read back as something
 * else than what was written marks the index for a rebuild too. So a crash,
 * a lost or corrupted file, or a write that bypassed the instance costs a rebuild, never a
 * silently wrong answer.
 *
 * Every method that changes an index runs under the instance's write lock (the callers of
 * `beginWrite` hold it; the others take it), like every write to Chroma.
 */
export interface KeywordIndexes {
  /** The collection's index for a search, loaded or rebuilt first if need be. */
  forSearch(collection: ChromaCollectionRef): Promise<KeywordIndex>;
  /** Under the write lock, before a write to the collection: its index, marked as changing on disk. */
  beginWrite(collection: ChromaCollectionRef): Promise<KeywordIndex>;
  /** After the write and the index's update succeeded: saves a snapshot soon. */
  written(collection: ChromaCollectionRef): void;
  /** After a write that failed part-way: forgets the index, which the marker makes rebuild on next use. */
  invalidate(collection: ChromaCollectionRef): void;
  /** Forgets the index and leaves its marker, so that its next use rebuilds it from Chroma. */
  markStale(collectionId: string): Promise<void>;
  /** Re-reads `ids` from Chroma into the index and its rows: what a write did, as Chroma holds it. */
  syncIds(collection: ChromaCollectionRef, index: KeywordIndex, ids: string[]): Promise<void>;
  /** Puts records Chroma is known to hold exactly so (a restore's) into the index and its rows. */
  putRecords(collection: ChromaCollectionRef, index: KeywordIndex, records: CachedRow[]): Promise<void>;
  /**
   * The rows of those of `ids` that `index` has (records with text), by id, read from its rows
   * file; the others are absent (the caller reads them from Chroma).
   */
  readRows(
    collection: ChromaCollectionRef,
    index: KeywordIndex,
    ids: string[],
  ): Promise<Map<string, CachedRow>>;
  /** Under the write lock: forgets a deleted collection's index and removes its files. */
  drop(collectionId: string): Promise<void>;
  /** Drops every index whose collection is not among `collectionIds` (deleted behind the routes). */
  keepOnly(collectionIds: Set<string>): Promise<void>;
  /**
   * Saves every pending snapshot and lets go of every index and its rows file (a clean stop, a
   * pool's tenant gone idle); a later use loads them again.
   */
  close(): Promise<void>;
}

/** How long after a write its snapshot is saved at the soonest: a burst of writes (an ingestion) saves once. */
const SNAPSHOT_DELAY_MS = 1_000;
/**
 * The share of a long stream of writes (a restore, a bulk load) that saving snapshots may take
 * at most: a snapshot is saved no sooner than its last save's time divided by this after the
 * write that needs it, so a large index (100,000 records: ~0.25 s a save) is saved every few
 * seconds rather than after every write, and the writes it holds up stay about 10% of the
 * time. Until it is saved its marker stands, so a crash meanwhile still rebuilds it.
 */
const SNAPSHOT_TIME_SHARE = 0.1;
/** Records read per Chroma `get` while verifying ids or rebuilding. */
const ID_PAGE = 5_000;
const DOCUMENT_PAGE = 1_000;
/**
 * 3: the compact BM25 index with its rows file (2 had no rows file, 1 was minisearch's JSON;
 * both are rebuilt from Chroma when met).
 */
const FORMAT = 3;
/** Dead rows (replaced or removed) let stay in a rows file until they outweigh the live ones and this. */
const MIN_DEAD_ROW_BYTES = 1024 * 1024;

interface Entry {
  index: KeywordIndex;
  /** None when it could not be written (a full disk): its records' rows are read from Chroma. */
  rows: RowsFile | null;
  /** Whether `<id>.dirty` is on disk. */
  isMarked: boolean;
  snapshotTimer: NodeJS.Timeout | null;
  /** How long its last snapshot took to save, in ms (0: none yet). */
  lastSaveMs: number;
}

interface SnapshotHeader {
  format: number;
  collectionId: string;
  count: number;
  sha256: string;
  /** The rows file's length when the snapshot was saved. */
  rowsBytes: number;
}

export function createKeywordIndexes(opts: {
  dataDir: string;
  chromaUrl: string;
  writeLock: WriteLock;
  logger: Logger;
}): KeywordIndexes {
  const dir = path.join(opts.dataDir, "keyword");
  const entries = new Map<string, Entry>();
  const loadsForSearch = new Map<string, Promise<KeywordIndex>>();
  const snapshotFile = (id: string) => path.join(dir, `${safeName(id)}.json`);
  const markerFile = (id: string) => path.join(dir, `${safeName(id)}.dirty`);
  const rowsFile = (id: string) => path.join(dir, `${safeName(id)}.rows`);

  async function readSnapshot(
    collection: ChromaCollectionRef,
  ): Promise<{ index: KeywordIndex; rows: RowsFile } | string> {
    if (await exists(markerFile(collection.id))) return "a write was not saved (crash)";
    let text: string;
    try {
      text = await readFile(snapshotFile(collection.id), "utf8");
    } catch {
      return "no saved index";
    }
    const newline = text.indexOf("\n");
    try {
      const header = JSON.parse(text.slice(0, newline)) as SnapshotHeader;
      const body = text.slice(newline + 1);
      if (header.format !== FORMAT) return "saved index is of another format";
      if (header.collectionId !== collection.id) return "saved index is another's";
      if (header.sha256 !== sha256(body)) return "saved index is corrupt";
      const index = KeywordIndex.fromJSON(body);
      if (index.size !== header.count) return "saved index is corrupt";
      const rows = await RowsFile.open(rowsFile(collection.id), header.rowsBytes);
      return rows ? { index, rows } : "saved rows are missing or cut short";
    } catch {
      return "saved index is unreadable";
    }
  }

  /**
   * Appends the rows of the records with text, and puts them into the index. Rows that cannot be
   * written (a full disk) are left out: searches read those from Chroma, and the write goes on.
   */
  async function put(index: KeywordIndex, rows: RowsFile | null, records: CachedRow[]): Promise<void> {
    const withText = records.filter((record) => record.document && record.document.trim() !== "");
    const locations = rows
      ? await rows.append(withText).catch((error: unknown) => {
          opts.logger.warn({ err: error }, "could not write keyword rows; searches read them from Chroma");
          return [];
        })
      : [];
    const placed = new Map(withText.map((record, i) => [record.id, locations[i]]));
    index.upsert(records.map(({ id, document }) => ({ id, text: document, row: placed.get(id) })));
  }

  /** The records of a Chroma `get` that included documents and metadatas. */
  function rowsOf(page: Awaited<ReturnType<typeof getFromChroma>>): CachedRow[] {
    return page.ids.map((id, i) => ({
      id,
      document: page.documents?.[i] ?? null,
      metadata: (page.metadatas?.[i] ?? null) as CachedRow["metadata"],
    }));
  }

  /** Whether `index` holds exactly the ids Chroma holds. */
  async function matchesChroma(collection: ChromaCollectionRef, index: KeywordIndex): Promise<boolean> {
    if ((await countInChroma(opts.chromaUrl, collection)) !== index.size) return false;
    for (let offset = 0; ; offset += ID_PAGE) {
      const page = await getFromChroma(opts.chromaUrl, collection, { limit: ID_PAGE, offset, include: [] });
      if (!page.ids.every((id) => index.has(id))) return false;
      if (page.ids.length < ID_PAGE) return true;
    }
  }

  /** The index from Chroma's records; its rows file too, unless the disk refuses it (then none). */
  async function rebuild(
    collection: ChromaCollectionRef,
  ): Promise<{ index: KeywordIndex; rows: RowsFile | null }> {
    const index = KeywordIndex.empty();
    const created = await mkdir(dir, { recursive: true })
      .then(() => RowsFile.create(rowsFile(collection.id)))
      .catch(() => null);
    try {
      for (let offset = 0; ; offset += DOCUMENT_PAGE) {
        const page = await getFromChroma(opts.chromaUrl, collection, {
          limit: DOCUMENT_PAGE,
          offset,
          include: ["documents", "metadatas"],
        });
        await put(index, created?.rows ?? null, rowsOf(page));
        if (page.ids.length < DOCUMENT_PAGE) break;
      }
    } catch (error) {
      await created?.abort();
      throw error;
    }
    const isCommitted = created
      ? await created.commit().then(
          () => true,
          () => false,
        )
      : false;
    if (created && !isCommitted) {
      index.forgetRows();
      return { index, rows: null };
    }
    return { index, rows: created?.rows ?? null };
  }

  /** Loads (or rebuilds) a collection's index; the caller holds the write lock. */
  async function load(collection: ChromaCollectionRef): Promise<Entry> {
    const loaded = entries.get(collection.id);
    if (loaded) return loaded;
    const saved = await readSnapshot(collection);
    let built: { index: KeywordIndex; rows: RowsFile | null };
    if (typeof saved !== "string" && (await matchesChroma(collection, saved.index))) {
      built = saved;
    } else {
      if (typeof saved !== "string") saved.rows.retire();
      const reason = typeof saved === "string" ? saved : "saved index differs from the vector store";
      const started = Date.now();
      built = await rebuild(collection);
      opts.logger.info(
        { collectionId: collection.id, reason, documents: built.index.size, ms: Date.now() - started },
        "keyword index rebuilt",
      );
    }
    const entry: Entry = {
      ...built,
      isMarked: await exists(markerFile(collection.id)),
      snapshotTimer: null,
      lastSaveMs: 0,
    };
    entries.set(collection.id, entry);
    if (typeof saved === "string" || entry.isMarked) {
      try {
        await saveSnapshot(collection.id, entry);
      } catch (error) {
        // A full disk must not fail a read: the rebuilt index serves from memory, and is saved by
        // a later attempt (or a rebuild after a restart, its marker still there).
        entry.isMarked = true;
        opts.logger.warn(
          { err: error, collectionId: collection.id },
          "could not save a rebuilt keyword index; it serves from memory until it can be",
        );
        scheduleSnapshot(collection.id, entry);
      }
    }
    return entry;
  }

  /** Writes the snapshot, then removes the marker; the caller holds the write lock. */
  async function saveSnapshot(collectionId: string, entry: Entry): Promise<void> {
    if (entry.snapshotTimer) clearTimeout(entry.snapshotTimer);
    entry.snapshotTimer = null;
    const started = performance.now();
    const deadRowBytes = (entry.rows?.bytes ?? 0) - entry.index.rowBytes;
    if (entry.rows && deadRowBytes > Math.max(MIN_DEAD_ROW_BYTES, entry.index.rowBytes)) {
      const { rows, moved } = await entry.rows.rewrite(rowsFile(collectionId), entry.index);
      entry.index.moveRows(moved);
      entry.rows = rows;
    }
    const body = entry.index.toJSON();
    const header: SnapshotHeader = {
      format: FORMAT,
      collectionId,
      count: entry.index.size,
      sha256: sha256(body),
      // Without a rows file, no record has a row: any file (or none) agrees with the snapshot.
      rowsBytes: entry.rows?.bytes ?? 0,
    };
    await mkdir(dir, { recursive: true });
    const temporary = `${snapshotFile(collectionId)}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, `${JSON.stringify(header)}\n${body}`);
      await rename(temporary, snapshotFile(collectionId));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await rm(markerFile(collectionId), { force: true });
    entry.isMarked = false;
    entry.lastSaveMs = performance.now() - started;
  }

  function scheduleSnapshot(collectionId: string, entry: Entry): void {
    if (entry.snapshotTimer) return;
    entry.snapshotTimer = setTimeout(
      () => {
        entry.snapshotTimer = null;
        void opts.writeLock
          .run(async () => {
            if (entries.get(collectionId) === entry && entry.isMarked)
              await saveSnapshot(collectionId, entry);
          })
          .catch((error: unknown) =>
            opts.logger.error({ err: error, collectionId }, "could not save a keyword index"),
          );
      },
      Math.max(SNAPSHOT_DELAY_MS, entry.lastSaveMs / SNAPSHOT_TIME_SHARE),
    );
    entry.snapshotTimer.unref();
  }

  function forget(collectionId: string): void {
    const entry = entries.get(collectionId);
    if (entry?.snapshotTimer) clearTimeout(entry.snapshotTimer);
    entry?.rows?.retire();
    entries.delete(collectionId);
  }

  async function markStale(collectionId: string): Promise<void> {
    forget(collectionId);
    await mkdir(dir, { recursive: true });
    await writeFile(markerFile(collectionId), "");
  }

  async function drop(collectionId: string): Promise<void> {
    forget(collectionId);
    await rm(snapshotFile(collectionId), { force: true });
    await rm(rowsFile(collectionId), { force: true });
    await rm(markerFile(collectionId), { force: true });
  }

  /** The rows file of the index being written (none: the index was forgotten, its rows go with it). */
  function rowsFor(collection: ChromaCollectionRef, index: KeywordIndex): RowsFile | null {
    const entry = entries.get(collection.id);
    return entry?.index === index ? entry.rows : null;
  }

  return {
    async forSearch(collection) {
      const loaded = entries.get(collection.id);
      if (loaded) return loaded.index;
      let loading = loadsForSearch.get(collection.id);
      if (!loading) {
        loading = opts.writeLock
          .run(async () => (await load(collection)).index)
          .finally(() => loadsForSearch.delete(collection.id));
        loadsForSearch.set(collection.id, loading);
      }
      return loading;
    },

    async beginWrite(collection) {
      const entry = await load(collection);
      if (!entry.isMarked) {
        await mkdir(dir, { recursive: true });
        await writeFile(markerFile(collection.id), "");
        entry.isMarked = true;
      }
      return entry.index;
    },

    written(collection) {
      const entry = entries.get(collection.id);
      if (entry) scheduleSnapshot(collection.id, entry);
    },

    invalidate(collection) {
      forget(collection.id);
    },

    markStale,

    async syncIds(collection, index, ids) {
      const rows = rowsFor(collection, index);
      for (let start = 0; start < ids.length; start += DOCUMENT_PAGE) {
        const slice = ids.slice(start, start + DOCUMENT_PAGE);
        const found = rowsOf(
          await getFromChroma(opts.chromaUrl, collection, {
            ids: slice,
            include: ["documents", "metadatas"],
          }),
        );
        // An id Chroma no longer has leaves the index (no text).
        const byId = new Map(found.map((row) => [row.id, row]));
        await put(
          index,
          rows,
          slice.map((id) => byId.get(id) ?? { id, document: null, metadata: null }),
        );
      }
    },

    async putRecords(collection, index, records) {
      await put(index, rowsFor(collection, index), records);
    },

    async readRows(collection, index, ids) {
      const entry = entries.get(collection.id);
      if (entry?.index !== index || !entry.rows) return new Map();
      const locations = ids.flatMap((id) => {
        const row = index.rowOf(id);
        return row ? [{ id, row }] : [];
      });
      if (locations.length === 0) return new Map();
      const { rows, corrupt } = await entry.rows.read(locations);
      if (corrupt.length > 0) {
        // Changed behind the instance: these come from Chroma, and the next use rebuilds.
        opts.logger.warn(
          { collectionId: collection.id, ids: corrupt.slice(0, 10) },
          "keyword rows are corrupt",
        );
        void opts.writeLock
          .run(async () => {
            if (entries.get(collection.id) === entry) await markStale(collection.id);
          })
          .catch(() => {});
      }
      return rows;
    },

    drop,

    async keepOnly(collectionIds) {
      const stale = new Set([...entries.keys()].filter((id) => !collectionIds.has(id)));
      const files = await readdir(dir).catch(() => [] as string[]);
      for (const file of files) {
        const id = file.replace(/\.(json|dirty|rows)$/, "");
        if (id !== file && !collectionIds.has(id)) stale.add(id);
      }
      for (const id of stale) await drop(id);
    },

    async close() {
      await opts.writeLock.run(async () => {
        for (const [collectionId, entry] of entries) {
          if (entry.isMarked) await saveSnapshot(collectionId, entry);
          forget(collectionId);
        }
      });
    },
  };
}

/** Chroma's collection ids are UUIDs; anything else is kept out of file names. */
function safeName(collectionId: string): string {
  return collectionId.replace(/[^a-zA-Z0-9-]/g, "_");
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
