import { z } from "@hono/zod-openapi";
import { toHttpError } from "@vdb/http/errors";
import { ChatAnswer, type ChatStreamEvent } from "@vdb/schemas/chat";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../http/env";
import { storedAnswer } from "./ask-question";

type ChatEvents = AsyncGenerator<ChatStreamEvent>;

/** The OpenAPI description of a 200 from {@link answerResponse}. */
export const ANSWER_RESPONSE = {
  description: "The stored answer with its numbered citations (or its stream of events)",
  content: {
    "application/json": { schema: ChatAnswer },
    "text/event-stream": { schema: z.string().describe("`token` events, then `done` (or `error`)") },
  },
};

/**
 * Answers a chat request: as server-sent events (`token`s, then `done`, or `error`) when the
 * client accepts `text/event-stream`, else the stored answer as JSON. Refusals come before the
 * first event (validation, access, rate limits, a stopped instance): they are thrown here and
 * answered as ordinary JSON errors with their status, not as a stream. `abort` is the
 * controller whose signal `events` was started with: a client that goes away stops the answer.
 */
export async function answerResponse(
  c: Context<AppEnv>,
  events: ChatEvents,
  abort: AbortController,
): Promise<Response> {
  const first = await events.next();
  if (!c.req.header("accept")?.includes("text/event-stream")) {
    return c.json(await storedAnswer(events, first), 200);
  }
  return streamSSE(c, async (sse) => {
    sse.onAbort(() => abort.abort());
    try {
      for (let next = first; !next.done; next = await events.next()) {
        await sse.writeSSE({ event: next.value.type, data: JSON.stringify(next.value) });
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      const { status, body } = toHttpError(error, c.get("requestId"));
      if (status >= 500) c.get("logger").error({ err: error, path: c.req.path }, "chat stream failed");
      await sse.writeSSE({ event: "error", data: JSON.stringify(body) });
    } finally {
      await events.return(undefined);
    }
  });
}
