import type { SearchHit } from "@vdb/schemas/instances";
import { LRUCache } from "lru-cache";
import { type ChromaCollectionRef, getFromChroma } from "../collections/chroma-query";
import type { WriteLock } from "../services";

/** A record's document and metadata, as a search hit carries them. */
export type CachedRow = Pick<SearchHit, "id" | "document" | "metadata">;

export interface RowCache {
  /**
   * The documents and metadatas of `ids` in `collection` (a record gone is absent), from memory
   * where this process read them since the collection's last write, else from Chroma.
   */
  read(
    where: { chromaUrl: string; writeLock: WriteLock },
    collection: ChromaCollectionRef,
    ids: string[],
  ): Promise<Map<string, CachedRow>>;
  /** Rows held now, their estimated bytes, and the budget (health). */
  stats(): { rows: number; bytes: number; maxBytes: number };
}

interface Entry {
  row: CachedRow;
  /** The write lock's version the row was read at: valid only while the lock still shows it. */
  version: number;
}

/** Per-row overhead beyond its strings (the entry, the key, the map's slot), estimated. */
const ROW_OVERHEAD_BYTES = 200;

/**
 * The fields of records that searches read from Chroma, kept in memory after a read, so that a
 * later search answered with them reads no row from Chroma (a call costs ~2 ms: bench/retrieval).
 * Keyword and hybrid searches read most rows from the keyword index's rows file (see
 * keyword/keyword-rows); what they ask of this cache is the rest: records without text, which
 * the keyword index does not hold.
 *
 * Never stale: every write to a namespace's Chroma holds its write lock, whose version changes
 * when a write starts and when it ends. A row is kept only if the lock showed the same version,
 * with no write running, before Chroma was asked and when the answer came; it is served only
 * while the lock still shows that version. So any write drops (lazily) every row of its
 * namespace read before it, and a read that overlapped a write is never kept. Rows are keyed
 * by Chroma tenant, database and collection id: a pool's tenants never share one.
 *
 * Bounded by `maxBytes` (least recently used go first); 0 turns it off.
 */
export function createRowCache({ maxBytes }: { maxBytes: number }): RowCache {
  const rows =
    maxBytes > 0
      ? new LRUCache<string, Entry>({
          maxSize: maxBytes,
          sizeCalculation: ({ row }) => rowBytes(row),
        })
      : null;
  const keyOf = (collection: ChromaCollectionRef, id: string) =>
    `${collection.tenant}\u0000${collection.database}\u0000${collection.id}\u0000${id}`;

  /** Those of `ids` held in memory and still valid, without asking Chroma for the others. */
  const peek = (writeLock: WriteLock, collection: ChromaCollectionRef, ids: string[]) => {
    const found = new Map<string, CachedRow>();
    const version = writeLock.version();
    if (rows === null || version === null) return found;
    for (const id of ids) {
      const entry = rows.get(keyOf(collection, id));
      if (entry?.version === version) found.set(id, entry.row);
    }
    return found;
  };

  return {
    async read({ chromaUrl, writeLock }, collection, ids) {
      const versionBefore = writeLock.version();
      const found = peek(writeLock, collection, ids);
      const missing = ids.filter((id) => !found.has(id));
      if (missing.length === 0) return found;
      const read = await getFromChroma(chromaUrl, collection, {
        ids: missing,
        include: ["documents", "metadatas"],
      });
      const isKept = rows !== null && versionBefore !== null && writeLock.version() === versionBefore;
      read.ids.forEach((id, index) => {
        const row: CachedRow = {
          id,
          document: read.documents?.[index] ?? null,
          metadata: (read.metadatas?.[index] ?? null) as CachedRow["metadata"],
        };
        found.set(id, row);
        if (isKept) rows.set(keyOf(collection, id), { row, version: versionBefore });
      });
      return found;
    },
    stats: () => ({ rows: rows?.size ?? 0, bytes: rows?.calculatedSize ?? 0, maxBytes }),
  };
}

/** A row's memory, estimated: UTF-16 strings at two bytes a character, plus a fixed overhead. */
function rowBytes(row: CachedRow): number {
  const metadata = row.metadata ? JSON.stringify(row.metadata).length : 0;
  return ROW_OVERHEAD_BYTES + 2 * (row.id.length + (row.document?.length ?? 0) + metadata);
}
