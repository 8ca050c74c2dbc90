import type { TokenWindow } from "@vdb/embeddings/use-lite-tokens";
import { countTokens, type TextChunk } from "./chunk-text";

/** A cut prefers a break in the last half of what the model reads, as chunking does. */
const MIN_FILL = 0.5;
const SENTENCE_END = /[.!?…。！？][)\]"'’”»]*\s+$/u;

/**
 * Splits every chunk the embedding model would not read whole into consecutive pieces it does
 * read whole (measured with the model's own tokenizer), and numbers all chunks again in order.
 * Chunk sizes count tokens of another tokenizer (cl100k); a model with a short window (use-lite
 * reads 128 of its own tokens) would otherwise embed each chunk from its start only, and the rest
 * of its text would never be found by a vector search.
 *
 * A piece ends at the last sentence end, else the last space, in the second half of what the
 * model reads; mid-word only in a run without spaces. Pieces of one chunk keep its page and
 * heading and do not overlap (the text is all there, once).
 *
 * @example
 * fitChunksToWindow(chunks, await useLiteTokenWindow());
 */
export function fitChunksToWindow(chunks: TextChunk[], window: TokenWindow): TextChunk[] {
  const fitted: TextChunk[] = [];
  for (const chunk of chunks) {
    const pieces = window.fits(chunk.text) ? [chunk.text] : splitToWindow(chunk.text, window);
    for (const text of pieces) {
      fitted.push({
        ...chunk,
        index: fitted.length,
        text,
        tokenCount: text === chunk.text ? chunk.tokenCount : countTokens(text),
      });
    }
  }
  return fitted;
}

function splitToWindow(text: string, window: TokenWindow): string[] {
  const pieces: string[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    let read = Math.min(rest.length, Math.max(1, window.readLength(rest)));
    if (read >= rest.length && window.fits(rest)) {
      pieces.push(rest);
      break;
    }
    let cut = breakBefore(rest, read);
    // The model's reading was estimated (text that normalizing changes): shrink until it fits.
    while (cut > 1 && !window.fits(rest.slice(0, cut))) {
      read = Math.max(1, Math.floor(cut * 0.9));
      cut = breakBefore(rest, read);
    }
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trimStart();
  }
  return pieces.filter((piece) => piece.length > 0);
}

/** Where to end a piece of `text` that the model reads `read` units of. */
function breakBefore(text: string, read: number): number {
  const head = text.slice(0, read);
  const floor = Math.floor(read * MIN_FILL);
  // A sentence end followed by space, else a space, in the last half of what is read.
  for (let at = head.length; at > floor; at--) {
    if (/\s/u.test(head[at - 1]!) && SENTENCE_END.test(head.slice(Math.max(0, at - 8), at))) return at;
  }
  for (let at = head.length; at > floor; at--) if (/\s/u.test(head[at - 1]!)) return at;
  // No space: mid-word, but never inside a surrogate pair.
  const code = text.charCodeAt(read - 1);
  return code >= 0xd800 && code <= 0xdbff && read > 1 ? read - 1 : read;
}
