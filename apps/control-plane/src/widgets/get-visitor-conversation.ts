import { AppError } from "@vdb/http/errors";
import { ChatSessionId } from "@vdb/schemas/chat";
import type { VisitorConversation } from "@vdb/schemas/widgets";
import { and, asc, desc, eq, type SQL } from "drizzle-orm";
import { toChatMessage } from "../chat/to-chat";
import type { Ctx } from "../lib/context";
import { chatMessages, chatSessions } from "../lib/db/schema";
import type { Visitor } from "./authenticate-visitor";

/**
 * The visitor's conversation with the widget, for the widget to show after a reload: the named
 * session, or the visitor's most recent one. Only ever the visitor's own: the query is scoped by
 * tenant, widget and visitor id, so another visitor's session id is NOT_FOUND.
 */
export async function getVisitorConversation({
  ctx,
  visitor,
  input,
}: {
  ctx: Ctx;
  visitor: Visitor;
  input: { sessionId?: string | undefined };
}): Promise<VisitorConversation> {
  const sessionId = input.sessionId === undefined ? undefined : ChatSessionId.parse(input.sessionId);
  const { db } = ctx.services;
  const filters: SQL[] = [
    eq(chatSessions.tenantId, visitor.widget.tenantId),
    eq(chatSessions.widgetId, visitor.widget.id),
    eq(chatSessions.visitorId, visitor.visitorId),
  ];
  if (sessionId) filters.push(eq(chatSessions.id, sessionId));
  const [session] = await db
    .select({ id: chatSessions.id })
    .from(chatSessions)
    .where(and(...filters))
    .orderBy(desc(chatSessions.updatedAt))
    .limit(1);
  if (!session) {
    if (sessionId) {
      throw new AppError({ code: "NOT_FOUND", message: `Conversation ${sessionId} does not exist` });
    }
    return { sessionId: null, messages: [] };
  }
  const rows = await db
    .select()
    .from(chatMessages)
    .where(eq(chatMessages.sessionId, session.id))
    .orderBy(asc(chatMessages.createdAt), desc(chatMessages.role));
  return { sessionId: session.id, messages: rows.map(toChatMessage) };
}
