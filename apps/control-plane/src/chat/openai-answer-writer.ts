import { AppError } from "@vdb/http/errors";
import OpenAI from "openai";
import type { Logger } from "../lib/logger";
import type { AnswerInput, AnswerWriter } from "./answer-writer";
import { NOT_FOUND_ANSWER } from "./extractive-answer";
import type { Source } from "./retrieve-sources";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";
/** A long passage is cut here in the prompt: chunks are small, this only bounds odd records. */
const MAX_SOURCE_CHARS = 6_000;

export const SYSTEM_PROMPT = `You answer questions about the user's documents, using only the numbered sources given with the question.
Rules:
- Cite every statement with the number of the source it comes from in square brackets, like [1] or [2][3], right after the statement.
- Use only information found in the sources. Never cite a source that does not support the statement, and never make up sources.
- If the sources do not contain the answer, reply exactly: "${NOT_FOUND_ANSWER}"
- Answer concisely, in the language of the question.`;

function sourceHeader(source: Source): string {
  const parts = [source.title];
  if (source.page !== null) parts.push(`page ${source.page}`);
  if (source.heading) parts.push(source.heading);
  return `[${source.n}] ${parts.join(" — ")}`;
}

/** The question with its sources, as the last user turn. */
export function questionPrompt(question: string, sources: Source[]): string {
  const blocks = sources.map(
    (source) => `${sourceHeader(source)}\n${source.text.slice(0, MAX_SOURCE_CHARS)}`,
  );
  return `Sources:\n\n${blocks.join("\n\n")}\n\nQuestion: ${question}`;
}

/**
 * Answers with any OpenAI-compatible `chat.completions` endpoint through the official SDK,
 * streaming the model's tokens. Failures become SERVICE_UNAVAILABLE naming the endpoint, never
 * the key; a caller's abort stops the request.
 */
export function createOpenAIAnswerWriter(options: {
  model: string;
  baseURL?: string | undefined;
  apiKey?: string | undefined;
  timeoutMs: number;
  logger: Logger;
}): AnswerWriter {
  const baseURL = options.baseURL ?? DEFAULT_BASE_URL;
  const client = new OpenAI({
    // Local servers ignore the key, but the SDK insists on one.
    apiKey: options.apiKey ?? "not-needed",
    baseURL,
    // Passed explicitly so the SDK never reads OPENAI_* from the environment on its own.
    organization: null,
    project: null,
    timeout: options.timeoutMs,
    maxRetries: 1,
  });

  return {
    mode: "llm",
    async *write({ question, sources, history, signal }: AnswerInput) {
      let stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
      try {
        stream = await client.chat.completions.create(
          {
            model: options.model,
            stream: true,
            messages: [
              { role: "system", content: SYSTEM_PROMPT },
              ...history,
              { role: "user", content: questionPrompt(question, sources) },
            ],
          },
          signal ? { signal } : {},
        );
        for await (const chunk of stream) {
          const text = chunk.choices[0]?.delta?.content;
          if (text) yield text;
        }
      } catch (error) {
        if (error instanceof OpenAI.APIUserAbortError || signal?.aborted) throw error;
        options.logger.warn({ err: error, baseURL, model: options.model }, "language model failed");
        const reason = error instanceof OpenAI.APIError && error.status ? ` (${error.status})` : "";
        throw new AppError({
          code: "SERVICE_UNAVAILABLE",
          message: `The language model at ${baseURL} did not answer${reason}; try again shortly`,
          cause: error,
        });
      }
    },
  };
}
