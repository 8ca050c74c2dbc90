import { termOf } from "./analyzer";

/** BM25's parameters: the classic ones (Robertson; Lucene's and Pyserini's defaults). */
export const BM25 = { k: 1.2, b: 0.75 } as const;

/** Between tokens: line breaks, Unicode spaces and punctuation. */
const SEPARATOR = /[\n\r\p{Z}\p{P}]+/u;
/** Term frequencies are kept in 16 bits: a term seen more often in one document counts this many times. */
const MAX_TF = 0xffff;
/** Writes since the last compaction that are let wait for the next one (postings, removed documents). */
const MIN_PENDING = 2_048;
/** Then compacted once the pending part is this share of the whole. */
const PENDING_SHARE = 1 / 8;
const FORMAT = "bm25-v2";

/** Where a record's row (its document and metadata, see keyword-rows) is in its collection's rows file. */
export interface RowLocation {
  start: number;
  length: number;
  /** The row's bytes' checksum (FNV-1a, 32 bits): a read checks it. */
  hash: number;
}

export interface KeywordHit {
  id: string;
  /** The document's BM25 score for the query (higher is better). */
  score: number;
}

/** A document as indexed: its terms with their frequencies, and its length. */
function analyse(text: string): { terms: Map<string, number>; length: number } {
  const tokens = text.split(SEPARATOR);
  const terms = new Map<string, number>();
  for (const token of tokens) {
    const term = termOf(token);
    if (term) terms.set(term, (terms.get(term) ?? 0) + 1);
  }
  // A document's length is its number of distinct tokens: the measure the retrieval benchmark's
  // BM25 numbers were taken with (minisearch's, which this index replaced, scoring the same).
  return { terms, length: new Set(tokens).size };
}

/** The query's terms, repeated ones included (each occurrence adds its score, as in Lucene). */
function queryTerms(text: string): string[] {
  return text
    .split(SEPARATOR)
    .map(termOf)
    .filter((term): term is string => Boolean(term));
}

/**
 * One collection's BM25 index over its documents' text: records are added, replaced and removed
 * as Chroma's are, and it serialises to JSON for the instance's data directory.
 *
 * Compact, because an instance holds one per collection in memory: a document is an ordinal,
 * and the index is one sorted term dictionary (a single string) with the postings of every
 * term, (ordinal, term frequency), in two typed arrays. Writes go to a small pending part (new
 * documents' postings by term; removed ordinals are tombstones) that a compaction folds in once
 * it is an eighth of the whole. Searching reads both parts and skips the tombstones, so its
 * scores are those of an index freshly built from the live documents.
 */
export class KeywordIndex {
  /** Ordinal → id; undefined for a removed (or replaced) document. */
  private ids: (string | undefined)[] = [];
  private readonly ordinals = new Map<string, number>();
  /** Ordinal → the document's length (see `analyse`). */
  private lengths = new Uint32Array(64);
  private liveLength = 0;
  private removed = 0;
  /** Ordinal → where its row starts in the rows file, its length in bytes (0: no row), its checksum. */
  private rowStarts = new Float64Array(64);
  private rowLengths = new Uint32Array(64);
  private rowHashes = new Uint32Array(64);
  private liveRowBytes = 0;

  /** The compacted part: its terms, sorted, each followed by "\n" (no term has one). */
  private terms = "";
  /** Where each term starts in `terms`, and one past the end. */
  private termStarts = new Uint32Array(1);
  /** Where each term's postings start in `docs` and `tfs`, and one past the end. */
  private postingStarts = new Uint32Array(1);
  private docs = new Uint32Array(0);
  private tfs = new Uint16Array(0);

  /**
   * The pending part, the postings of documents added since: per term, a list threaded backwards
   * through three typed arrays from its latest posting (a JS array per term would cost ~150 bytes).
   */
  private pendingLatest = new Map<string, number>();
  private pendingOrdinals = new Uint32Array(256);
  private pendingTfs = new Uint16Array(256);
  private pendingPrevious = new Int32Array(256);
  private pendingPostings = 0;

  private constructor() {}

  static empty(): KeywordIndex {
    return new KeywordIndex();
  }

  /** An index from `toJSON()`'s text; throws when the text is not one. */
  static fromJSON(json: string): KeywordIndex {
    const saved = JSON.parse(json) as Record<string, unknown>;
    if (saved.format !== FORMAT) throw new Error("not a keyword index");
    const { ids, terms } = saved;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string") || typeof terms !== "string")
      throw new Error("not a keyword index");
    const index = new KeywordIndex();
    const lengths = decode(saved.lengths, Uint32Array);
    const rowStarts = decode(saved.rowStarts, Float64Array);
    const rowLengths = decode(saved.rowLengths, Uint32Array);
    const rowHashes = decode(saved.rowHashes, Uint32Array);
    const postingStarts = decode(saved.postingStarts, Uint32Array);
    const docs = decode(saved.docs, Uint32Array);
    const tfs = decode(saved.tfs, Uint16Array);
    const termStarts = [0];
    for (let at = terms.indexOf("\n"); at !== -1; at = terms.indexOf("\n", at + 1)) termStarts.push(at + 1);
    const termCount = termStarts.length - 1;
    const consistent =
      lengths.length === ids.length &&
      rowStarts.length === ids.length &&
      rowLengths.length === ids.length &&
      rowHashes.length === ids.length &&
      termStarts[termCount] === terms.length &&
      postingStarts.length === termCount + 1 &&
      postingStarts[0] === 0 &&
      postingStarts[termCount] === docs.length &&
      tfs.length === docs.length &&
      postingStarts.every((start, i) => i === 0 || start >= postingStarts[i - 1]!) &&
      docs.every((ordinal) => ordinal < ids.length);
    if (!consistent) throw new Error("an inconsistent keyword index");
    for (const [ordinal, id] of (ids as string[]).entries()) index.ordinals.set(id, ordinal);
    if (index.ordinals.size !== ids.length) throw new Error("an inconsistent keyword index");
    index.ids = ids;
    index.lengths = lengths;
    index.liveLength = lengths.reduce((sum, length) => sum + length, 0);
    index.rowStarts = rowStarts;
    index.rowLengths = rowLengths;
    index.rowHashes = rowHashes;
    index.liveRowBytes = rowLengths.reduce((sum, length) => sum + length, 0);
    index.terms = terms;
    index.termStarts = Uint32Array.from(termStarts);
    index.postingStarts = postingStarts;
    index.docs = docs;
    index.tfs = tfs;
    return index;
  }

  get size(): number {
    return this.ordinals.size;
  }

  has(id: string): boolean {
    return this.ordinals.has(id);
  }

  /**
   * Adds or replaces records, each with where its row was written (none: its row is read from
   * Chroma when a search needs it); a record without text (null or blank) is removed.
   */
  upsert(records: { id: string; text: string | null | undefined; row?: RowLocation | undefined }[]): void {
    for (const { id, text, row } of records) {
      this.removeOne(id);
      if (text && text.trim() !== "") this.add(id, text, row);
      this.compactIfDue();
    }
  }

  /** Where `id`'s row is in the rows file, or null (not indexed, or written without one). */
  rowOf(id: string): RowLocation | null {
    const ordinal = this.ordinals.get(id);
    if (ordinal === undefined || this.rowLengths[ordinal] === 0) return null;
    return this.rowAt(ordinal);
  }

  /** Every live row's location, in the order they lie in the file (to rewrite it without the dead ones). */
  liveRows(): { id: string; row: RowLocation }[] {
    const rows: { id: string; row: RowLocation }[] = [];
    this.ids.forEach((id, ordinal) => {
      if (id !== undefined && this.rowLengths[ordinal]! > 0) rows.push({ id, row: this.rowAt(ordinal) });
    });
    return rows.sort((a, b) => a.row.start - b.row.start);
  }

  /** The bytes of the rows file that live records' rows take (the rest is replaced or removed rows). */
  get rowBytes(): number {
    return this.liveRowBytes;
  }

  /** Forgets where every row is (their file is gone): searches read them from Chroma. */
  forgetRows(): void {
    this.rowLengths.fill(0);
    this.liveRowBytes = 0;
  }

  /** Moves rows after their file was rewritten: `moved` maps an id to its row's new place. */
  moveRows(moved: Map<string, RowLocation>): void {
    for (const [id, row] of moved) {
      const ordinal = this.ordinals.get(id);
      if (ordinal === undefined) continue;
      this.liveRowBytes += row.length - this.rowLengths[ordinal]!;
      this.rowStarts[ordinal] = row.start;
      this.rowLengths[ordinal] = row.length;
      this.rowHashes[ordinal] = row.hash;
    }
  }

  private rowAt(ordinal: number): RowLocation {
    return {
      start: this.rowStarts[ordinal]!,
      length: this.rowLengths[ordinal]!,
      hash: this.rowHashes[ordinal]!,
    };
  }

  remove(ids: Iterable<string>): void {
    for (const id of ids) {
      this.removeOne(id);
      this.compactIfDue();
    }
  }

  /** Documents matching any query term, best BM25 score first, at most `limit`. */
  query(text: string, limit: number): KeywordHit[] {
    return this.matches(text).slice(0, limit);
  }

  /**
   * Every document matching any query term, best first (ties by id): BM25 with k1 1.2 and b 0.75,
   * idf ln(1 + (N − n + 0.5) / (n + 0.5)), over the live documents only.
   */
  matches(text: string): KeywordHit[] {
    const documents = this.ordinals.size;
    if (documents === 0) return [];
    const averageLength = this.liveLength / documents;
    const { k, b } = BM25;
    const scores = new Map<number, number>();
    for (const term of queryTerms(text)) {
      let matching = 0;
      this.forEachPosting(term, (ordinal) => {
        if (this.ids[ordinal] !== undefined) matching++;
      });
      if (matching === 0) continue;
      const idf = Math.log(1 + (documents - matching + 0.5) / (matching + 0.5));
      this.forEachPosting(term, (ordinal, tf) => {
        if (this.ids[ordinal] === undefined) return;
        const length = this.lengths[ordinal]!;
        const score = idf * ((tf * (k + 1)) / (tf + k * (1 - b + (b * length) / averageLength)));
        scores.set(ordinal, (scores.get(ordinal) ?? 0) + score);
      });
    }
    const hits: KeywordHit[] = [];
    for (const [ordinal, score] of scores) hits.push({ id: this.ids[ordinal]!, score });
    return hits.sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  }

  toJSON(): string {
    this.compact();
    return JSON.stringify({
      format: FORMAT,
      ids: this.ids,
      lengths: encode(this.lengths.subarray(0, this.ids.length)),
      rowStarts: encode(this.rowStarts.subarray(0, this.ids.length)),
      rowLengths: encode(this.rowLengths.subarray(0, this.ids.length)),
      rowHashes: encode(this.rowHashes.subarray(0, this.ids.length)),
      terms: this.terms,
      postingStarts: encode(this.postingStarts),
      docs: encode(this.docs),
      tfs: encode(this.tfs),
    });
  }

  private add(id: string, text: string, row: RowLocation | undefined): void {
    const { terms, length } = analyse(text);
    const ordinal = this.ids.length;
    this.ids.push(id);
    this.ordinals.set(id, ordinal);
    if (ordinal >= this.lengths.length) {
      const capacity = Math.max(64, this.lengths.length * 2);
      this.lengths = grown(this.lengths, new Uint32Array(capacity));
      this.rowStarts = grown(this.rowStarts, new Float64Array(capacity));
      this.rowLengths = grown(this.rowLengths, new Uint32Array(capacity));
      this.rowHashes = grown(this.rowHashes, new Uint32Array(capacity));
    }
    this.lengths[ordinal] = length;
    this.liveLength += length;
    this.rowStarts[ordinal] = row?.start ?? 0;
    this.rowLengths[ordinal] = row?.length ?? 0;
    this.rowHashes[ordinal] = row?.hash ?? 0;
    this.liveRowBytes += row?.length ?? 0;
    for (const [term, tf] of terms) {
      const at = this.pendingPostings++;
      if (at === this.pendingOrdinals.length) this.growPending();
      this.pendingOrdinals[at] = ordinal;
      this.pendingTfs[at] = Math.min(tf, MAX_TF);
      this.pendingPrevious[at] = this.pendingLatest.get(term) ?? -1;
      this.pendingLatest.set(term, at);
    }
  }

  private removeOne(id: string): void {
    const ordinal = this.ordinals.get(id);
    if (ordinal === undefined) return;
    this.ordinals.delete(id);
    this.ids[ordinal] = undefined;
    this.liveLength -= this.lengths[ordinal]!;
    this.liveRowBytes -= this.rowLengths[ordinal]!;
    this.removed++;
  }

  private forEachPosting(term: string, visit: (ordinal: number, tf: number) => void): void {
    const found = this.findTerm(term);
    if (found !== -1) {
      for (let at = this.postingStarts[found]!; at < this.postingStarts[found + 1]!; at++) {
        visit(this.docs[at]!, this.tfs[at]!);
      }
    }
    this.forEachPending(this.pendingLatest.get(term) ?? -1, visit);
  }

  /** A term's pending postings, latest first. */
  private forEachPending(latest: number, visit: (ordinal: number, tf: number) => void): void {
    for (let at = latest; at !== -1; at = this.pendingPrevious[at]!) {
      visit(this.pendingOrdinals[at]!, this.pendingTfs[at]!);
    }
  }

  private growPending(): void {
    const capacity = this.pendingOrdinals.length * 2;
    const ordinals = new Uint32Array(capacity);
    const tfs = new Uint16Array(capacity);
    const previous = new Int32Array(capacity);
    ordinals.set(this.pendingOrdinals);
    tfs.set(this.pendingTfs);
    previous.set(this.pendingPrevious);
    this.pendingOrdinals = ordinals;
    this.pendingTfs = tfs;
    this.pendingPrevious = previous;
  }

  /** The term's number in the compacted part, or −1: a binary search of the sorted terms. */
  private findTerm(term: string): number {
    let low = 0;
    let high = this.termStarts.length - 2;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const candidate = this.termAt(middle);
      if (candidate === term) return middle;
      if (candidate < term) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  private termAt(number: number): string {
    return this.terms.slice(this.termStarts[number]!, this.termStarts[number + 1]! - 1);
  }

  private compactIfDue(): void {
    const whole = this.docs.length + this.pendingPostings;
    if (
      this.pendingPostings > Math.max(MIN_PENDING, whole * PENDING_SHARE) ||
      this.removed > Math.max(MIN_PENDING, this.ids.length * PENDING_SHARE)
    ) {
      this.compact();
    }
  }

  /** Folds the pending part in and drops removed documents: ordinals are renumbered. */
  private compact(): void {
    if (this.pendingPostings === 0 && this.removed === 0) return;
    const renumbered = new Int32Array(this.ids.length).fill(-1);
    const ids: string[] = [];
    const lengths = new Uint32Array(Math.max(64, this.ordinals.size));
    const rowStarts = new Float64Array(lengths.length);
    const rowLengths = new Uint32Array(lengths.length);
    const rowHashes = new Uint32Array(lengths.length);
    this.ids.forEach((id, ordinal) => {
      if (id === undefined) return;
      renumbered[ordinal] = ids.length;
      this.ordinals.set(id, ids.length);
      lengths[ids.length] = this.lengths[ordinal]!;
      rowStarts[ids.length] = this.rowStarts[ordinal]!;
      rowLengths[ids.length] = this.rowLengths[ordinal]!;
      rowHashes[ids.length] = this.rowHashes[ordinal]!;
      ids.push(id);
    });
    // Every term of either part in order: the compacted terms (sorted) merged with the new ones.
    const newTerms = [...this.pendingLatest.keys()]
      .filter((term) => this.findTerm(term) === -1)
      .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const entries: { term: string; compacted: number }[] = [];
    const compactedCount = this.termStarts.length - 1;
    for (let number = 0, next = 0; number < compactedCount || next < newTerms.length; ) {
      const term = number < compactedCount ? this.termAt(number) : undefined;
      if (term !== undefined && (next === newTerms.length || term < newTerms[next]!)) {
        entries.push({ term, compacted: number++ });
      } else {
        entries.push({ term: newTerms[next++]!, compacted: -1 });
      }
    }

    const kept: string[] = [];
    const postingStarts: number[] = [0];
    let docs = new Uint32Array(this.docs.length + this.pendingPostings);
    let tfs = new Uint16Array(docs.length);
    let count = 0;
    const keep = (ordinal: number, tf: number) => {
      const now = renumbered[ordinal]!;
      if (now === -1) return;
      docs[count] = now;
      tfs[count] = tf;
      count++;
    };
    const pendingOfTerm: [number, number][] = [];
    for (const { term, compacted } of entries) {
      const before = count;
      if (compacted !== -1) {
        for (let at = this.postingStarts[compacted]!; at < this.postingStarts[compacted + 1]!; at++) {
          keep(this.docs[at]!, this.tfs[at]!);
        }
      }
      // Pending postings come latest first: kept in ordinal order.
      pendingOfTerm.length = 0;
      this.forEachPending(this.pendingLatest.get(term) ?? -1, (ordinal, tf) =>
        pendingOfTerm.push([ordinal, tf]),
      );
      for (let at = pendingOfTerm.length - 1; at >= 0; at--) keep(...pendingOfTerm[at]!);
      if (count === before) continue; // every document with the term is gone
      kept.push(term);
      postingStarts.push(count);
    }
    docs = docs.slice(0, count);
    tfs = tfs.slice(0, count);

    const termStarts = new Uint32Array(kept.length + 1);
    kept.forEach((term, number) => {
      termStarts[number + 1] = termStarts[number]! + term.length + 1;
    });
    this.ids = ids;
    this.lengths = lengths;
    this.rowStarts = rowStarts;
    this.rowLengths = rowLengths;
    this.rowHashes = rowHashes;
    // Joined anew, so that no term keeps a document's whole text alive (a slice may).
    this.terms = kept.length === 0 ? "" : `${kept.join("\n")}\n`;
    this.termStarts = termStarts;
    this.postingStarts = Uint32Array.from(postingStarts);
    this.docs = docs;
    this.tfs = tfs;
    this.pendingLatest = new Map();
    this.pendingOrdinals = new Uint32Array(256);
    this.pendingTfs = new Uint16Array(256);
    this.pendingPrevious = new Int32Array(256);
    this.pendingPostings = 0;
    this.removed = 0;
  }
}

function grown<T extends Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function encode(array: Uint32Array | Uint16Array | Float64Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64");
}

function decode<T extends Uint32Array | Uint16Array | Float64Array>(
  value: unknown,
  type: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
): T {
  if (typeof value !== "string") throw new Error("not a keyword index");
  const bytes = Buffer.from(value, "base64");
  if (bytes.byteLength % type.BYTES_PER_ELEMENT !== 0) throw new Error("not a keyword index");
  // Copied into a buffer of its own: Buffer's may be shared and unaligned.
  const own = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(own).set(bytes);
  return new type(own);
}
