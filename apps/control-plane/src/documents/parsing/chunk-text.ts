import { validationError } from "@vdb/http/errors";
import { ChunkSettings } from "@vdb/schemas/documents";
import { Tiktoken } from "js-tiktoken/lite";
import cl100kBase from "js-tiktoken/ranks/cl100k_base";
import type { DocumentSection } from "./parsed-document";

export type ChunkOptions = {
  /** Most tokens in one chunk. */
  chunkSize: number;
  /** Tokens repeated from the end of one chunk at the start of the next (same page only). */
  chunkOverlap: number;
};

export type TextChunk = {
  /** Position in the document; with its id, `<docId>:<index>` names the chunk across re-runs. */
  index: number;
  text: string;
  /** `countTokens(text)`, never above `chunkSize`. */
  tokenCount: number;
  page?: number;
  /** The heading in force where the chunk's text starts. */
  heading?: string;
};

/** Break strength before a piece; chunking prefers the strongest break near a chunk's end. */
const PARAGRAPH = 3;
const LINE = 2;
const SENTENCE = 1;
const WORD = 0;
const NONE = -1;

/** A chunk ends at the best break that still leaves it at least this full, and overlaps likewise. */
const MIN_FILL = 0.5;
/** Runs of non-space longer than this are cut before counting; see `countTokens`. */
const LONG_RUN_CHARS = 40;
const LONG_RUN = new RegExp(`\\S{${LONG_RUN_CHARS + 1},}|\\s{${LONG_RUN_CHARS + 1},}`, "gu");
const RUN_SLICE = new RegExp(`[\\s\\S]{1,${LONG_RUN_CHARS}}`, "gu");
const SENTENCE_END = /(?:[.!?…][)\]"'’”»]*|[。！？])$/u;
const CJK_SENTENCE_END = /(?<=[。！？；])/u;

/**
 * cl100k_base is the tokenizer of OpenAI's text-embedding-3 and ada-002; other embedding models
 * count within a few percent of it, which a chunk size leaves room for. Its rank table ships in
 * js-tiktoken (no download) and takes ~300 ms to build, so it is built once, on first use.
 */
let encoder: Tiktoken | undefined;

/**
 * Tokens in `text` under cl100k_base. Exact for prose; inside a run of more than 40 characters
 * without a space (or a long run of spaces) it counts 40-character slices instead, because BPE is
 * quadratic in the length of such a run and a hostile file could make one megabytes long. Special
 * tokens such as `<|endoftext|>` are counted as the plain text they are in a document.
 *
 * @example
 * countTokens("hello world"); // 2
 */
export function countTokens(text: string): number {
  encoder ??= new Tiktoken(cl100kBase);
  let total = 0;
  let last = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    total += encodedLength(encoder, text.slice(last, run.index));
    for (const slice of run[0].match(RUN_SLICE) ?? []) total += runSliceLength(encoder, slice);
    last = run.index + run[0].length;
  }
  return total + encodedLength(encoder, text.slice(last));
}

/**
 * Slices of long runs, counted once: a megabyte of one repeated character (or of base64) is the
 * same few slices over and over, and BPE on each is the costliest step of chunking such a text.
 */
const runSliceTokens = new Map<string, number>();

function runSliceLength(tokenizer: Tiktoken, slice: string): number {
  let tokens = runSliceTokens.get(slice);
  if (tokens === undefined) {
    tokens = encodedLength(tokenizer, slice);
    if (runSliceTokens.size >= 10_000) runSliceTokens.clear();
    runSliceTokens.set(slice, tokens);
  }
  return tokens;
}

function encodedLength(tokenizer: Tiktoken, text: string): number {
  return text ? tokenizer.encode(text, [], []).length : 0;
}

/**
 * Cuts sections into chunks of at most `chunkSize` tokens, consecutive chunks sharing about
 * `chunkOverlap` tokens, ready to embed.
 *
 * - **Breaks** fall at the strongest boundary in the last half of the room: a paragraph, else a
 *   line, else a sentence, else a word; mid-word only for text with no spaces for that long.
 * - **Pages** are never mixed: consecutive sections with the same `page` are chunked together,
 *   and neither a chunk nor its overlap crosses into another page, so `page` is exact.
 * - **Headings** are written into the text as the line that opens their section, as in the
 *   document, so a chunk starting a section embeds with its heading; `heading` is the one in force
 *   where the chunk starts. Small sections on one page share a chunk.
 * - **Deterministic**: the same sections and options give the same chunks, so ids built from
 *   `index` are stable and a re-run upserts instead of duplicating.
 *
 * Throws VALIDATION_FAILED for options `ChunkSettings` (in `@vdb/schemas/documents`) refuses,
 * among them an overlap not below the size.
 *
 * @example
 * chunkSections([{ text: longText, page: 1 }], { chunkSize: 500, chunkOverlap: 50 });
 * // [{ index: 0, text: "…", tokenCount: 497, page: 1 }, { index: 1, … }]
 */
export function chunkSections(sections: DocumentSection[], options: ChunkOptions): TextChunk[] {
  validateOptions(options);
  const chunks: TextChunk[] = [];
  for (const group of groupByPage(sections)) {
    chunkGroup(group, options, (chunk) => chunks.push({ index: chunks.length, ...chunk }));
  }
  return chunks;
}

type PageGroup = {
  text: string;
  page: number | undefined;
  starts: number[];
  headings: (string | undefined)[];
};
type Piece = { start: number; end: number; tokens: number; breakBefore: number };

function groupByPage(sections: DocumentSection[]): PageGroup[] {
  const groups: PageGroup[] = [];
  let group: PageGroup | undefined;
  let parts: string[] = [];
  let length = 0;
  const close = () => {
    if (group) group.text = parts.join("");
  };
  for (const section of sections) {
    const heading = section.heading?.trim() || undefined;
    const body = section.text.trim();
    const text = [heading, body].filter(Boolean).join("\n");
    if (!text) continue;
    if (!group || group.page !== section.page) {
      close();
      group = { text: "", page: section.page, starts: [], headings: [] };
      groups.push(group);
      parts = [];
      length = 0;
    } else {
      parts.push("\n\n");
      length += 2;
    }
    group.starts.push(length);
    group.headings.push(heading);
    parts.push(text);
    length += text.length;
  }
  close();
  return groups;
}

function chunkGroup(
  group: PageGroup,
  { chunkSize, chunkOverlap }: ChunkOptions,
  emit: (chunk: Omit<TextChunk, "index">) => void,
): void {
  const pieces = splitIntoPieces(group.text, Math.max(1, Math.floor(chunkSize / 4)));
  const count = pieces.length;
  if (count === 0) return;
  // estimate(a, b) = tokens of pieces a..b-1; pieces split where the tokenizer would, so it is
  // exact or nearly, and the final count below settles it.
  const prefix = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) prefix[i + 1] = prefix[i]! + pieces[i]!.tokens;
  const estimate = (from: number, to: number) => prefix[to]! - prefix[from]!;

  let start = 0;
  let previousEnd = 0;
  while (start < count) {
    // Pieces up to previousEnd are the overlap; a chunk must add at least one new piece.
    const lowestEnd = Math.max(start, previousEnd) + 1;
    let fits = start + 1;
    while (fits < count && estimate(start, fits + 1) <= chunkSize) fits++;
    let end = Math.max(fits, lowestEnd);
    if (end < count)
      end = bestBreak(pieces, start, lowestEnd, end, (to) => estimate(start, to) >= chunkSize * MIN_FILL);

    let text = sliceText(group.text, pieces, start, end);
    let tokenCount = countTokens(text);
    while (tokenCount > chunkSize) {
      // The estimate was short: drop about the excess from the end, else from the overlap.
      const excess = tokenCount - chunkSize;
      if (end > lowestEnd) {
        let to = end - 1;
        while (to > lowestEnd && estimate(to, end) < excess) to--;
        end = to;
      } else if (start < end - 1) {
        start++;
      } else {
        break;
      }
      text = sliceText(group.text, pieces, start, end);
      tokenCount = countTokens(text);
    }

    const heading = headingAt(group, firstNonSpace(group.text, pieces[start]!.start));
    emit({
      text,
      tokenCount,
      ...(group.page !== undefined ? { page: group.page } : {}),
      ...(heading ? { heading } : {}),
    });
    if (end >= count) return;

    previousEnd = end;
    start = overlapStart(
      pieces,
      start,
      end,
      Math.min(chunkOverlap, chunkSize - pieces[end]!.tokens),
      estimate,
    );
  }
}

/**
 * The break before one of pieces `lowest..highest` (as an end index) with the strongest boundary,
 * the latest among equals, among ends that leave the chunk `isFull` enough; `highest` if none.
 */
function bestBreak(
  pieces: Piece[],
  start: number,
  lowest: number,
  highest: number,
  isFull: (end: number) => boolean,
): number {
  let best = highest;
  let strength = pieces[highest]!.breakBefore;
  for (let end = highest - 1; end >= lowest && end > start && isFull(end); end--) {
    if (strength === PARAGRAPH) break;
    if (pieces[end]!.breakBefore > strength) {
      best = end;
      strength = pieces[end]!.breakBefore;
    }
  }
  return best;
}

/**
 * Where the next chunk starts so that it repeats about `budget` tokens of this one: the strongest
 * boundary (earliest among equals) among starts repeating between half the budget and all of it.
 * Always after `start`, so chunking advances; `end` (no overlap) when nothing fits the budget.
 */
function overlapStart(
  pieces: Piece[],
  start: number,
  end: number,
  budget: number,
  estimate: (from: number, to: number) => number,
): number {
  if (budget <= 0) return end;
  let earliest = end;
  while (earliest - 1 > start && estimate(earliest - 1, end) <= budget) earliest--;
  let best = earliest;
  let strength = pieces[earliest]?.breakBefore ?? NONE;
  for (let from = earliest + 1; from < end && estimate(from, end) >= budget * MIN_FILL; from++) {
    if (pieces[from]!.breakBefore > strength) {
      best = from;
      strength = pieces[from]!.breakBefore;
    }
  }
  return best;
}

function sliceText(text: string, pieces: Piece[], from: number, to: number): string {
  return text.slice(pieces[from]!.start, pieces[to - 1]!.end).trim();
}

function firstNonSpace(text: string, from: number): number {
  const nonSpace = /\S/g;
  nonSpace.lastIndex = from;
  return nonSpace.exec(text)?.index ?? from;
}

function headingAt(group: PageGroup, offset: number): string | undefined {
  let low = 0;
  let high = group.starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (group.starts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return group.headings[low];
}

/**
 * The text as words with their leading whitespace, each knowing the break before it. A word
 * longer than `LONG_RUN_CHARS` or `maxTokens` (URLs, CJK text, base64) is cut: after CJK
 * sentence ends first, then into slices, then in halves until each fits.
 */
function splitIntoPieces(text: string, maxTokens: number): Piece[] {
  const pieces: Piece[] = [];
  // Prose repeats its words; counting each distinct one once makes splitting ~3x faster.
  const counted = new Map<string, number>();
  const count = (raw: string) => {
    let tokens = counted.get(raw);
    if (tokens === undefined) {
      tokens = countTokens(raw);
      if (counted.size < 100_000) counted.set(raw, tokens);
    }
    return tokens;
  };
  let previousWord = "";
  for (const match of text.matchAll(/\s*\S+/g)) {
    const raw = match[0];
    const start = match.index;
    const word = raw.trimStart();
    const space = raw.slice(0, raw.length - word.length);
    const breakBefore =
      pieces.length === 0
        ? PARAGRAPH
        : countNewlines(space) >= 2
          ? PARAGRAPH
          : countNewlines(space) === 1
            ? LINE
            : SENTENCE_END.test(previousWord)
              ? SENTENCE
              : WORD;
    previousWord = word;
    const tokens = word.length <= LONG_RUN_CHARS ? count(raw) : Number.POSITIVE_INFINITY;
    if (tokens <= maxTokens) {
      pieces.push({ start, end: start + raw.length, tokens, breakBefore });
      continue;
    }
    // The leading whitespace travels with the first fragment.
    let at = start;
    let fragmentBreak = breakBefore;
    const sentences = word.split(CJK_SENTENCE_END);
    sentences.forEach((sentence, i) => {
      const slices = sentence.match(RUN_SLICE) ?? [];
      slices.forEach((slice, j) => {
        const fragment = i === 0 && j === 0 ? space + slice : slice;
        for (const part of halveUntilFits(fragment, maxTokens, count)) {
          pieces.push({
            start: at,
            end: at + part.text.length,
            tokens: part.tokens,
            breakBefore: fragmentBreak,
          });
          at += part.text.length;
          fragmentBreak = NONE;
        }
      });
      fragmentBreak = SENTENCE;
    });
  }
  return pieces;
}

function halveUntilFits(
  text: string,
  maxTokens: number,
  count: (text: string) => number,
): { text: string; tokens: number }[] {
  const tokens = count(text);
  const codePoints = Array.from(text);
  if (tokens <= maxTokens || codePoints.length <= 1) return [{ text, tokens }];
  const middle = codePoints.length >> 1;
  return [
    ...halveUntilFits(codePoints.slice(0, middle).join(""), maxTokens, count),
    ...halveUntilFits(codePoints.slice(middle).join(""), maxTokens, count),
  ];
}

function countNewlines(text: string): number {
  let newlines = 0;
  for (const char of text) if (char === "\n") newlines++;
  return newlines;
}

/** The same rule the API applies to a document's settings, so a job can never chunk differently. */
function validateOptions(options: ChunkOptions): void {
  const parsed = ChunkSettings.safeParse(options);
  if (!parsed.success) throw validationError(parsed.error);
}
