import { type FileHandle, open, rename, rm } from "node:fs/promises";
import type { CachedRow } from "../documents/row-cache";
import type { KeywordIndex, RowLocation } from "./keyword-index";

/** How long a replaced rows file stays open for the searches that were reading it. */
const RETIRED_OPEN_MS = 60_000;
/** Bytes read at a time while a rows file is rewritten without its dead rows. */
const COPY_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * A collection's rows (each record's document and metadata, as Chroma holds them) on disk beside
 * its keyword index, so that a keyword or hybrid search reads its answer's rows locally instead
 * of asking Chroma again (a Chroma `get` is ~1.5–2 ms whatever it reads: bench/retrieval).
 * Memory stays with the index's 16 bytes a record (where each row is, and its checksum); the rows
 * stay in the file and the page cache.
 *
 * Append-only: a row replaced or removed stays until the file is rewritten without the dead rows
 * (when they outweigh the live ones). Each row is one line, `[id, document, metadata]` in JSON
 * (its location's length counts the newline), and the index keeps each row's checksum, so a read
 * checks that it got the row it asked for, unchanged. Writes run under the instance's write lock.
 */
export class RowsFile {
  private constructor(
    private readonly handle: FileHandle,
    private end: number,
  ) {}

  /** The file as saved, or null when it is missing or shorter than the snapshot says it was. */
  static async open(file: string, savedBytes: number): Promise<RowsFile | null> {
    const handle = await open(file, "r+").catch(() => null);
    if (!handle) return null;
    const { size } = await handle.stat();
    if (size < savedBytes) {
      await handle.close();
      return null;
    }
    return new RowsFile(handle, size);
  }

  /**
   * A new, empty file at a temporary path: `commit()` puts it in place at `file` once it is
   * written, `abort()` removes it (a failed write: a full disk).
   */
  static async create(
    file: string,
  ): Promise<{ rows: RowsFile; commit: () => Promise<void>; abort: () => Promise<void> }> {
    const temporary = `${file}.${process.pid}.tmp`;
    const handle = await open(temporary, "w+");
    const rows = new RowsFile(handle, 0);
    const abort = async () => {
      await handle.close().catch(() => {});
      await rm(temporary, { force: true });
    };
    return {
      rows,
      commit: async () => {
        try {
          await rename(temporary, file);
        } catch (error) {
          await abort();
          throw error;
        }
      },
      abort,
    };
  }

  /** The file's length: what a snapshot records. */
  get bytes(): number {
    return this.end;
  }

  /** Writes the rows at the end of the file; where each one went, in order. */
  async append(rows: CachedRow[]): Promise<RowLocation[]> {
    const lines = rows.map((row) => Buffer.from(`${JSON.stringify([row.id, row.document, row.metadata])}\n`));
    const locations: RowLocation[] = [];
    let at = this.end;
    for (const line of lines) {
      locations.push({ start: at, length: line.length, hash: fnv1a(line) });
      at += line.length;
    }
    const buffer = Buffer.concat(lines);
    await this.handle.write(buffer, 0, buffer.length, this.end);
    this.end = at;
    return locations;
  }

  /**
   * The rows at `locations`, by id. A row that is not what was written there (its checksum or id
   * differs: the file was changed behind the instance) is reported in `corrupt`; a failed read
   * (the file was replaced and closed meanwhile) leaves its row out.
   */
  async read(
    locations: { id: string; row: RowLocation }[],
  ): Promise<{ rows: Map<string, CachedRow>; corrupt: string[] }> {
    const rows = new Map<string, CachedRow>();
    const corrupt: string[] = [];
    await Promise.all(
      locations.map(async ({ id, row }) => {
        const buffer = Buffer.allocUnsafe(row.length);
        const read = await this.handle.read(buffer, 0, row.length, row.start).catch(() => null);
        if (!read) return;
        const bytes = buffer.subarray(0, read.bytesRead);
        const parsed = bytes.length === row.length && fnv1a(bytes) === row.hash ? parseRow(bytes) : null;
        if (parsed?.id === id) rows.set(id, parsed);
        else corrupt.push(id);
      }),
    );
    return { rows, corrupt };
  }

  /**
   * Copies the live rows of `index` to a new file put in place of this one, and returns it with
   * each row's new place (for `index.moveRows`). This file stays readable a while for the
   * searches that are reading it.
   */
  async rewrite(
    file: string,
    index: KeywordIndex,
  ): Promise<{ rows: RowsFile; moved: Map<string, RowLocation> }> {
    const { rows: fresh, commit, abort } = await RowsFile.create(file);
    try {
      const moved = await this.copyLiveRows(fresh, index);
      await commit();
      this.retire();
      return { rows: fresh, moved };
    } catch (error) {
      await abort();
      throw error;
    }
  }

  private async copyLiveRows(fresh: RowsFile, index: KeywordIndex): Promise<Map<string, RowLocation>> {
    const moved = new Map<string, RowLocation>();
    let window = Buffer.alloc(0);
    let windowStart = 0;
    const pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      const buffer = Buffer.concat(pending);
      await fresh.handle.write(buffer, 0, buffer.length, fresh.end);
      fresh.end += buffer.length;
      pending.length = 0;
      pendingBytes = 0;
    };
    for (const { id, row } of index.liveRows()) {
      // Read in large windows (rows lie in the order they were written).
      const lineEnd = row.start + row.length;
      if (row.start < windowStart || lineEnd > windowStart + window.length) {
        windowStart = row.start;
        window = Buffer.alloc(Math.max(COPY_WINDOW_BYTES, row.length));
        const { bytesRead } = await this.handle.read(window, 0, window.length, windowStart);
        window = window.subarray(0, bytesRead);
      }
      const line = window.subarray(row.start - windowStart, lineEnd - windowStart);
      moved.set(id, { start: fresh.end + pendingBytes, length: row.length, hash: row.hash });
      pending.push(line);
      pendingBytes += line.length;
      if (pendingBytes >= COPY_WINDOW_BYTES) await flush();
    }
    await flush();
    return moved;
  }

  /** Closes the file once the searches reading it have had time to finish. */
  retire(): void {
    setTimeout(() => void this.handle.close().catch(() => {}), RETIRED_OPEN_MS).unref();
  }
}

/** FNV-1a, 32 bits: a row's checksum (it tells a changed byte, not an attack). */
function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

function parseRow(bytes: Buffer): CachedRow | null {
  try {
    const [id, document, metadata] = JSON.parse(bytes.toString("utf8")) as [
      unknown,
      CachedRow["document"],
      CachedRow["metadata"],
    ];
    return typeof id === "string" ? { id, document: document ?? null, metadata: metadata ?? null } : null;
  } catch {
    return null;
  }
}
