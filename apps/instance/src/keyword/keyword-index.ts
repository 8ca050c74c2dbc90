import MiniSearch, { type Options } from "minisearch";
import { termOf } from "./analyzer";

/** BM25's parameters: the classic ones (Robertson; Lucene's and Pyserini's defaults). */
export const BM25 = { k: 1.2, b: 0.75 } as const;

interface IndexedText {
  id: string;
  text: string;
}

const OPTIONS: Options<IndexedText> = {
  fields: ["text"],
  // Only ids are kept: documents and metadata are read from Chroma for the hits returned.
  storeFields: [],
  processTerm: termOf,
  // d = 0 turns minisearch's BM25+ into plain BM25.
  searchOptions: { bm25: { ...BM25, d: 0 } },
};

export interface KeywordHit {
  id: string;
  /** The document's BM25 score for the query (higher is better). */
  score: number;
}

/**
 * One collection's BM25 index over its documents' text: records are added, replaced and removed
 * as Chroma's are, and it serialises to JSON for the instance's data directory.
 */
export class KeywordIndex {
  private constructor(private readonly search: MiniSearch<IndexedText>) {}

  static empty(): KeywordIndex {
    return new KeywordIndex(new MiniSearch(OPTIONS));
  }

  /** An index from `toJSON()`'s text; throws when the text is not one. */
  static fromJSON(json: string): KeywordIndex {
    return new KeywordIndex(MiniSearch.loadJSON(json, OPTIONS));
  }

  get size(): number {
    return this.search.documentCount;
  }

  has(id: string): boolean {
    return this.search.has(id);
  }

  /** Adds or replaces records; a record without text (null or blank) is removed. */
  upsert(records: { id: string; text: string | null | undefined }[]): void {
    for (const { id, text } of records) {
      if (this.search.has(id)) this.search.discard(id);
      if (text && text.trim() !== "") this.search.add({ id, text });
    }
  }

  remove(ids: Iterable<string>): void {
    for (const id of ids) if (this.search.has(id)) this.search.discard(id);
  }

  /**
   * Documents matching any query term, best BM25 score first, at most `limit`.
   *
   * minisearch multiplies a document's score by the number of query terms it matched (a
   * coordination factor BM25 does not have); dividing it out gives plain BM25, which is what
   * the retrieval benchmark measured best.
   *
   * A discarded (replaced or removed) document stays in the postings until a search or a
   * vacuum meets it, and the search that meets it scores the documents before it with the old
   * document frequency. So while there are discarded documents, a first pass cleans the query's
   * terms and the second one scores: the same scores as a freshly built index.
   */
  query(text: string, limit: number): KeywordHit[] {
    return this.matches(text).slice(0, limit);
  }

  /**
   * Every document matching any query term, best first: what `query` ranks, whole (minisearch
   * scores and sorts every match whatever the limit, so the whole list costs no more).
   */
  matches(text: string): KeywordHit[] {
    if (this.search.dirtCount > 0) this.search.search(text);
    return this.search
      .search(text)
      .map((result) => ({ id: String(result.id), score: result.score / (result.queryTerms.length || 1) }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  toJSON(): string {
    return JSON.stringify(this.search);
  }
}
