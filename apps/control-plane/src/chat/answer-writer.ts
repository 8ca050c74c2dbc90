import type { ChatMode } from "@vdb/schemas/chat";
import type { Services } from "../services";
import { chatConfigOf } from "./chat-config";
import { type Audience, extractiveAnswer, notFoundAnswerFor } from "./extractive-answer";
import { createOpenAIAnswerWriter } from "./openai-answer-writer";
import type { Source } from "./retrieve-sources";

export interface AnswerInput {
  question: string;
  /** Numbered `[1]…[k]`, best first; never empty. */
  sources: Source[];
  /** Earlier turns of the session, oldest first. */
  history: { role: "user" | "assistant"; content: string }[];
  /** The extractive writer words its intro for it; default "operator". */
  audience?: Audience;
  signal?: AbortSignal;
}

/** Writes an answer citing its sources as `[n]`, as a stream of text pieces. */
export interface AnswerWriter {
  readonly mode: ChatMode;
  write(input: AnswerInput): AsyncIterable<string>;
}

/** Without a language model: the passages' own sentences, in one piece. */
export const extractiveAnswerWriter: AnswerWriter = {
  mode: "extractive",
  async *write({ question, sources, audience = "operator" }) {
    yield extractiveAnswer(question, sources, audience) ?? notFoundAnswerFor(audience);
  },
};

const writers = new WeakMap<object, AnswerWriter>();

/** The configured writer: the LLM when `LLM_MODEL` is set, else extractive. One per config. */
export function answerWriterFor(services: Services): AnswerWriter {
  let writer = writers.get(services.config);
  if (!writer) {
    const settings = chatConfigOf(services.config);
    writer = settings.LLM_MODEL
      ? createOpenAIAnswerWriter({
          model: settings.LLM_MODEL,
          baseURL: settings.LLM_BASE_URL,
          apiKey: settings.LLM_API_KEY,
          timeoutMs: settings.LLM_TIMEOUT_MS,
          logger: services.logger,
        })
      : extractiveAnswerWriter;
    writers.set(services.config, writer);
  }
  return writer;
}
