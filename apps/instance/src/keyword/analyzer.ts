import { stemmer } from "stemmer";

/**
 * English stop words: the set of Lucene's EnglishAnalyzer, which the BM25 baselines of the
 * retrieval benchmarks we compare with (BEIR, Pyserini) use. Short on purpose: a longer list
 * drops words that matter in entity queries ("first", "new", "up").
 */
const STOP_WORDS = new Set(
  (
    "a an and are as at be but by for if in into is it no not of on or such that the their then there " +
    "these they this to was will with"
  ).split(" "),
);

// Words longer than this are not words (base64, hashes, minified code): not worth a term each.
const MAX_TERM_LENGTH = 40;

/**
 * One token as an index term: lower-cased, stop words dropped, Porter-stemmed; the same for
 * documents and queries, so "Running" finds "runs".
 */
export function termOf(token: string): string | null {
  const lower = token.toLowerCase();
  if (lower.length > MAX_TERM_LENGTH || STOP_WORDS.has(lower)) return null;
  return stemmer(lower);
}
