import { assertValidDimension } from "./dimension";
import type { EmbeddingProvider } from "./provider";

/** Weights of the three kinds of features: whole words dominate, trigrams catch typos and inflections. */
const WORD_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.5;
const TRIGRAM_WEIGHT = 0.3;
/** Hashed for a text without any letter or digit, so that every vector still has unit length. */
const EMPTY_FEATURE = "\u0000empty";

/**
 * Deterministic feature hashing ("the hashing trick"): lowercase words, word bigrams and
 * character trigrams are hashed with a sign into `dimension` buckets and the vector is
 * L2-normalised. No model, no I/O, same output on every machine: for tests and as a last
 * resort. Texts sharing words score a higher cosine similarity than unrelated ones, but it
 * knows no synonyms ("cat" and "kitten" are unrelated to it).
 *
 * @example
 * ```ts
 * const provider = createHashProvider({ dimension: 256 });
 * const { vectors: [a, b] } = await provider.embed(["The cat sat", "the cat sits"]);
 * provider.name; // "hash"
 * a.length; // 256
 * ```
 */
export function createHashProvider(options: { dimension: number }): EmbeddingProvider {
  const { dimension } = options;
  assertValidDimension(dimension, "hash");
  return {
    name: "hash",
    dimension,
    // Every word counts, however long the text: nothing is ever truncated.
    maxInputTokens: null,
    embed: async (texts) => ({ vectors: texts.map((text) => hashEmbedding(text, dimension)), truncated: [] }),
  };
}

/**
 * The synchronous core of {@link createHashProvider}: one text to one unit vector.
 *
 * @example
 * ```ts
 * hashEmbedding("hello world", 8).length; // 8
 * ```
 */
export function hashEmbedding(text: string, dimension: number): number[] {
  const vector = new Array<number>(dimension).fill(0);
  const add = (feature: string, weight: number) => {
    const hash = fnv1a(feature);
    const bucket = hash % dimension;
    // The sign comes from other bits than the bucket, so collisions cancel out on average.
    const sign = mix(hash) & 1 ? -1 : 1;
    vector[bucket] = (vector[bucket] ?? 0) + sign * weight;
  };

  const words =
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const [index, word] of words.entries()) {
    add(`w:${word}`, WORD_WEIGHT);
    const next = words[index + 1];
    if (next !== undefined) add(`b:${word} ${next}`, BIGRAM_WEIGHT);
    const padded = `#${word}#`;
    for (let start = 0; start + 3 <= padded.length; start++) {
      add(`t:${padded.slice(start, start + 3)}`, TRIGRAM_WEIGHT);
    }
  }

  let norm = euclideanNorm(vector);
  if (norm === 0) {
    // No features at all, or (rarely) every feature cancelled out.
    add(EMPTY_FEATURE, 1);
    norm = euclideanNorm(vector);
  }
  return vector.map((value) => value / norm);
}

// A loop, not Math.hypot(...vector): spreading 65,536 arguments can overflow the stack.
function euclideanNorm(vector: number[]): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return Math.sqrt(sum);
}

/** 32-bit FNV-1a over UTF-16 code units: tiny, fast and stable across platforms. */
function fnv1a(input: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < input.length; index++) {
    hash ^= input.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** MurmurHash3's finaliser: spreads the bits of `hash` so its low bit is independent of `hash % n`. */
function mix(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
