import type { Source } from "./retrieve-sources";

/** Who reads the answer: the tenant's own people (console, API) or a visitor of its site (widget). */
export type Audience = "operator" | "visitor";

export const NOT_FOUND_ANSWER = "I could not find this in your documents.";
export const EXTRACTIVE_INTRO =
  "Extractive answer (no language model is configured): the most relevant sentences from your documents.";
/** A visitor is not told how the site is configured, nor that the documents are theirs. */
export const VISITOR_NOT_FOUND_ANSWER = "Sorry, I could not find an answer to that.";
export const VISITOR_EXTRACTIVE_INTRO = "Here is what I found:";

export const notFoundAnswerFor = (audience: Audience) =>
  audience === "visitor" ? VISITOR_NOT_FOUND_ANSWER : NOT_FOUND_ANSWER;

const MAX_SENTENCES = 3;
const MAX_SENTENCE_CHARS = 400;
/**
 * With no word in common, a passage this similar is still quoted (a semantic model matched a
 * paraphrase); below it, "not found" beats quoting an unrelated passage.
 */
const PARAPHRASE_MIN_SCORE = 0.5;

// Words that say nothing about what is asked; matching them would pick any sentence.
const STOPWORDS = new Set(
  (
    "a about after all also am an and any are as at be been before being but by can could did do does doing " +
    "for from get gets got had has have having he her here hers him his how i if in into is it its itself " +
    "just me more most my no nor not of on once only or other our ours out over own please same she should " +
    "so some such tell than that the their theirs them then there these they this those through to too " +
    "under until up us very was we were what when where which while who whom why will with would you your yours"
  ).split(" "),
);

/** Light stemming: "policies" → "policy", "days" → "day", "reimbursed" → "reimburs". */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.length > 5 && word.endsWith("ing")) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith("ed")) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss")) return word.slice(0, -1);
  return word;
}

function termsOf(text: string): Set<string> {
  const words =
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(words.filter((word) => word.length > 1 && !STOPWORDS.has(word)).map(stem));
}

function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((sentence) => sentence.replace(/\s+/g, " ").trim())
    .filter((sentence) => /[\p{L}\p{N}]/u.test(sentence));
}

function clip(sentence: string): string {
  return sentence.length <= MAX_SENTENCE_CHARS
    ? sentence
    : `${sentence.slice(0, MAX_SENTENCE_CHARS - 1).trimEnd()}…`;
}

/**
 * An answer made only of the passages' own sentences: those sharing the most words with the
 * question (ties: the better passage, then the earlier sentence), each followed by its source's
 * `[n]`, under a line saying it is extractive. Null when no passage is about the question.
 *
 * @example
 * extractiveAnswer("How many vacation days?", sources);
 * // "Extractive answer (…)\n\n- Employees get 30 vacation days per year. [1]"
 */
export function extractiveAnswer(
  question: string,
  sources: Source[],
  audience: Audience = "operator",
): string | null {
  const asked = termsOf(question);
  const candidates: { sentence: string; source: number; score: number; order: number }[] = [];
  let order = 0;
  for (const source of sources) {
    for (const sentence of sentencesOf(source.text)) {
      const terms = termsOf(sentence);
      let shared = 0;
      for (const term of asked) if (terms.has(term)) shared++;
      order++;
      if (shared === 0) continue;
      // Words in common decide; the passage's similarity only breaks near-ties.
      candidates.push({ sentence, source: source.n, score: shared / asked.size + source.score * 0.1, order });
    }
  }
  if (candidates.length === 0) {
    const best = sources[0];
    if (!best || best.score < PARAPHRASE_MIN_SCORE) return null;
    const opening = sentencesOf(best.text).slice(0, 2);
    candidates.push(
      ...opening.map((sentence, index) => ({ sentence, source: best.n, score: 0, order: index })),
    );
  }
  candidates.sort((a, b) => b.score - a.score || a.order - b.order);
  // Overlapping chunks repeat sentences: quote each once, from the better passage.
  const seen = new Set<string>();
  const chosen = candidates
    .filter((candidate) => {
      const key = candidate.sentence.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, MAX_SENTENCES);
  const lines = chosen.map((candidate) => `- ${clip(candidate.sentence)} [${candidate.source}]`);
  const intro = audience === "visitor" ? VISITOR_EXTRACTIVE_INTRO : EXTRACTIVE_INTRO;
  return `${intro}\n\n${lines.join("\n")}`;
}
