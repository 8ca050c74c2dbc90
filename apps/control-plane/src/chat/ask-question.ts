import { AppError } from "@vdb/http/errors";
import { AskQuestionInput, type ChatAnswer, type ChatMode, type ChatStreamEvent } from "@vdb/schemas/chat";
import { newId } from "@vdb/schemas/ids";
import { desc, eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import type { Database } from "../lib/db/client";
import { chatMessages, chatSessions } from "../lib/db/schema";
import { isForeignKeyViolation } from "../lib/errors";
import { recordUsage } from "../usage/record-usage";
import { answerWriterFor } from "./answer-writer";
import { CitationRenumberer, withoutCitationMarkers } from "./citation-markers";
import { notFoundAnswerFor } from "./extractive-answer";
import { retrieveSources, toCitation } from "./retrieve-sources";
import { findSessionOrThrow } from "./to-chat";

/** The widget visitor a conversation belongs to. */
export interface VisitorOwner {
  widgetId: string;
  visitorId: string;
}

const TITLE_CHARS = 80;
/** Earlier turns the model sees: enough for a follow-up question, bounded in tokens. */
const HISTORY_MESSAGES = 6;
const HISTORY_MESSAGE_CHARS = 2_000;

function titleOf(message: string): string {
  const flat = message.replace(/\s+/g, " ").trim();
  return flat.length <= TITLE_CHARS ? flat : `${flat.slice(0, TITLE_CHARS - 1).trimEnd()}…`;
}

function creatorOf(ctx: Ctx): string | null {
  const principal = ctx.principal;
  if (!principal) return null;
  return principal.kind === "user" ? principal.userId : principal.keyId;
}

async function recentHistory(db: Database, sessionId: string) {
  const rows = await db
    .select({ role: chatMessages.role, content: chatMessages.content })
    .from(chatMessages)
    .where(eq(chatMessages.sessionId, sessionId))
    .orderBy(desc(chatMessages.createdAt))
    .limit(HISTORY_MESSAGES);
  return rows.reverse().map((row) => ({
    role: row.role,
    content: (row.role === "assistant" ? withoutCitationMarkers(row.content) : row.content).slice(
      0,
      HISTORY_MESSAGE_CHARS,
    ),
  }));
}

/**
 * Answers a question from the tenant's documents, streaming: retrieves the nearest passages,
 * has the configured writer (LLM or extractive) answer citing them as `[n]`, and yields the
 * answer's pieces, then `done` once the question and answer are stored. Citations list only the
 * sources the answer cites, renumbered 1..n in order of first citation.
 *
 * The session and both messages are written together at the end, so a failure (instance
 * stopped, model down) or an abandoned stream leaves nothing half-stored.
 */
export async function* streamAnswer({
  ctx,
  input,
  signal,
  visitor,
}: {
  ctx: Ctx;
  input: AskQuestionInput;
  signal?: AbortSignal;
  /**
   * A widget visitor asking (see `src/widgets`): new sessions are recorded as theirs, and only
   * their own session can be continued (any other is NOT_FOUND, like another tenant's).
   */
  visitor?: VisitorOwner;
}): AsyncGenerator<ChatStreamEvent> {
  const data = AskQuestionInput.parse(input);
  requireTenantScope(ctx.principal, data.tenantId, "read");
  const { db } = ctx.services;
  const askedAt = new Date();
  const existing = data.sessionId ? await findSessionOrThrow(db, data.tenantId, data.sessionId) : null;
  if (
    existing &&
    visitor &&
    (existing.widgetId !== visitor.widgetId || existing.visitorId !== visitor.visitorId)
  ) {
    throw new AppError({
      code: "NOT_FOUND",
      message: `Chat session ${existing.id} does not exist in this tenant`,
    });
  }
  const sources = await retrieveSources(ctx, {
    tenantId: data.tenantId,
    query: data.message,
    collection: data.collection,
    nResults: data.nResults,
    mode: data.searchMode,
    where: data.where,
    // Metered as the chat message it answers.
    metered: false,
  });

  const audience = visitor ? "visitor" : "operator";
  let mode: ChatMode = "extractive";
  let pieces: AsyncIterable<string> | string[] = [notFoundAnswerFor(audience)];
  if (sources.length > 0) {
    const writer = answerWriterFor(ctx.services);
    mode = writer.mode;
    const history = existing ? await recentHistory(db, existing.id) : [];
    pieces = writer.write({
      question: data.message,
      sources,
      history,
      audience,
      ...(signal ? { signal } : {}),
    });
  }
  const markers = new CitationRenumberer(sources.length);
  let answer = "";
  for await (const piece of pieces) {
    const text = markers.push(piece);
    if (text) {
      answer += text;
      yield { type: "token", text };
    }
  }
  const rest = markers.flush();
  if (rest) {
    answer += rest;
    yield { type: "token", text: rest };
  }
  if (answer.trim() === "") {
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The language model returned an empty answer",
    });
  }
  const citations = markers.cited.map((source, index) => toCitation(sources[source - 1]!, index + 1));

  const sessionId = existing?.id ?? newId("chatSession");
  const messageId = newId("chatMessage");
  // Stated, not `now()`: inside one transaction both messages would get the same instant.
  const answeredAt = new Date(Math.max(Date.now(), askedAt.getTime() + 1));
  await storeExchange(
    db,
    async (tx) => {
      if (existing) {
        const updated = await tx
          .update(chatSessions)
          .set({ updatedAt: answeredAt })
          .where(eq(chatSessions.id, sessionId))
          .returning({ id: chatSessions.id });
        if (updated.length === 0) {
          throw new AppError({
            code: "NOT_FOUND",
            message: `Chat session ${sessionId} was deleted meanwhile`,
          });
        }
      } else {
        await tx.insert(chatSessions).values({
          id: sessionId,
          tenantId: data.tenantId,
          title: titleOf(data.message),
          createdBy: visitor ? visitor.visitorId : creatorOf(ctx),
          widgetId: visitor?.widgetId ?? null,
          visitorId: visitor?.visitorId ?? null,
          createdAt: askedAt,
          updatedAt: answeredAt,
        });
      }
      await tx.insert(chatMessages).values([
        {
          id: newId("chatMessage"),
          sessionId,
          tenantId: data.tenantId,
          role: "user",
          content: data.message,
          createdAt: askedAt,
        },
        {
          id: messageId,
          sessionId,
          tenantId: data.tenantId,
          role: "assistant",
          content: answer,
          citations,
          mode,
          createdAt: answeredAt,
        },
      ]);
      await recordUsage(tx, {
        tenantId: data.tenantId,
        kind: "chat",
        quantity: 1,
        metadata: { sessionId, mode, ...(visitor ? { widgetId: visitor.widgetId } : {}) },
      });
    },
    visitor,
  );
  yield { type: "done", sessionId, messageId, answer, mode, citations };
}

/**
 * Runs the transaction that stores a question and its answer. A visitor's widget deleted while
 * the answer was being written makes the new session's widget reference fail (a foreign key):
 * that is the widget being gone, NOT_FOUND, not an internal error.
 */
async function storeExchange(
  db: Database,
  work: Parameters<Database["transaction"]>[0],
  visitor: VisitorOwner | undefined,
): Promise<void> {
  try {
    await db.transaction(work);
  } catch (error) {
    if (visitor && isForeignKeyViolation(error)) {
      throw new AppError({ code: "NOT_FOUND", message: "This chat widget no longer exists" });
    }
    throw error;
  }
}

/** Reads a chat stream to its stored answer (the `done` event), dropping the tokens. */
export async function storedAnswer(
  events: AsyncGenerator<ChatStreamEvent>,
  first?: IteratorResult<ChatStreamEvent>,
): Promise<ChatAnswer> {
  for (let next = first ?? (await events.next()); !next.done; next = await events.next()) {
    if (next.value.type === "done") {
      await events.return(undefined);
      const { type: _type, ...answer } = next.value;
      return answer;
    }
  }
  throw new AppError({ code: "INTERNAL", message: "The answer ended without being stored" });
}

/** {@link streamAnswer}, awaited whole: the stored answer with its citations. */
export async function askQuestion({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: AskQuestionInput;
}): Promise<ChatAnswer> {
  return storedAnswer(streamAnswer({ ctx, input }));
}
