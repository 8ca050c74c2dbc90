import type { EmbeddingsModel } from "@energetic-ai/embeddings";

/**
 * Universal Sentence Encoder lite reads the first 128 tokens of a text and ignores the rest:
 * measured, appending any tokens after the 128th leaves the vector bit-for-bit unchanged (and one
 * token fewer changes it). Typical English runs 3 to 4 characters a token, so ~400-500 characters.
 */
export const USE_LITE_MAX_TOKENS = 128;
/** The longest piece of the model's vocabulary, in code points (measured: 16). */
const LONGEST_PIECE = 16;
/**
 * Code points of a text that are tokenized. 128 tokens never span more than 128 × 16 = 2,048;
 * twice that keeps the cut far from the 128th token, so the tokens kept are those of the whole text.
 */
const MAX_SYMBOLS = 2 * USE_LITE_MAX_TOKENS * LONGEST_PIECE;
/** UTF-16 units read before normalising: NFKC rarely shrinks text, never to a quarter. */
const MAX_RAW_UNITS = 4 * MAX_SYMBOLS;

const SEPARATOR = "\u2581";

interface Piece {
  key: string[];
  score: number;
  index: number;
}

/** The parts of the library's tokenizer used here (its vocabulary is private in its types). */
interface Tokenizer {
  vocabulary: [string, number][];
  trie: { commonPrefixSearch(symbols: string[]): [string[], number, number][] };
}

/**
 * The token ids the model reads of `text`: at most {@link USE_LITE_MAX_TOKENS}, and whether
 * the text had more. The library's own `encode` gives the same ids but costs time quadratic in
 * the text's length (it copies the rest of the text at every position: 30,000 characters took
 * over a minute); this one looks at most {@link LONGEST_PIECE} symbols ahead and reads at most
 * {@link MAX_SYMBOLS} of them, so any text costs about the same as a 4,000-character one.
 */
export function encodeForWindow(model: EmbeddingsModel, text: string): { ids: number[]; truncated: boolean } {
  const tokenizer = model.tokenizer as unknown as Tokenizer;
  const raw = text.length > MAX_RAW_UNITS ? text.slice(0, MAX_RAW_UNITS) : text;
  const normalized = raw.normalize("NFKC");
  const processed = normalized.length > 0 ? SEPARATOR + normalized.replace(/ /g, SEPARATOR) : normalized;
  let symbols = Array.from(processed);
  let wasCut = raw.length < text.length;
  if (symbols.length > MAX_SYMBOLS) {
    symbols = symbols.slice(0, MAX_SYMBOLS);
    wasCut = true;
  }
  const ids = viterbi(tokenizer, symbols);
  // Cut short, the rest of the text held more tokens still: more than the window in any case.
  const truncated = wasCut || ids.length > USE_LITE_MAX_TOKENS;
  return { ids: ids.length > USE_LITE_MAX_TOKENS ? ids.slice(0, USE_LITE_MAX_TOKENS) : ids, truncated };
}

/** The library's segmentation (best-scoring pieces, merged unknowns), step for step. */
function viterbi(tokenizer: Tokenizer, symbols: string[]): number[] {
  const { vocabulary, trie } = tokenizer;
  const nodes: Record<number, Piece[]>[] = [];
  const words: number[] = [];
  const best: number[] = [];
  for (let i = 0; i <= symbols.length; i++) {
    nodes.push({});
    words.push(0);
    best.push(0);
  }
  for (let i = 0; i < symbols.length; i++) {
    // The library passes symbols.slice(i): no piece is longer than LONGEST_PIECE, so this is equal.
    const matches = trie.commonPrefixSearch(symbols.slice(i, i + LONGEST_PIECE));
    for (const [key, score, index] of matches) {
      const end = nodes[i + key.length]!;
      end[i] ??= [];
      end[i]!.push({ key, score, index });
    }
  }
  for (let endPos = 0; endPos <= symbols.length; endPos++) {
    for (const startPos in nodes[endPos]) {
      for (const word of nodes[endPos]![Number(startPos)]!) {
        const score = word.score + best[endPos - word.key.length]!;
        if (best[endPos] === 0 || score >= best[endPos]!) {
          best[endPos] = score;
          words[endPos] = word.index;
        }
      }
    }
  }
  const results: number[] = [];
  let iter = words.length - 1;
  while (iter > 0) {
    results.push(words[iter]!);
    iter -= vocabulary[words[iter]!]![0].length;
  }
  const merged: number[] = [];
  let isPreviousUnknown = false;
  for (const id of results) {
    if (!(isPreviousUnknown && id === 0)) merged.push(id);
    isPreviousUnknown = id === 0;
  }
  return merged.reverse();
}
