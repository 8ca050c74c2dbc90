import { AppError } from "@vdb/http/errors";
import type { ChatMessage, ChatSession, Citation } from "@vdb/schemas/chat";
import { and, eq } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { type chatMessages, chatSessions } from "../lib/db/schema";

type SessionRow = typeof chatSessions.$inferSelect;

export function toChatSession(row: SessionRow): ChatSession {
  return {
    id: row.id,
    tenantId: row.tenantId,
    title: row.title,
    createdBy: row.createdBy,
    widgetId: row.widgetId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toChatMessage(row: typeof chatMessages.$inferSelect): ChatMessage {
  return {
    id: row.id,
    sessionId: row.sessionId,
    role: row.role,
    content: row.content,
    citations: row.citations as Citation[],
    mode: row.mode,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A tenant's session, or NOT_FOUND (also for another tenant's id: ids are not probeable). */
export async function findSessionOrThrow(
  db: Database,
  tenantId: string,
  sessionId: string,
): Promise<SessionRow> {
  const [row] = await db
    .select()
    .from(chatSessions)
    .where(and(eq(chatSessions.id, sessionId), eq(chatSessions.tenantId, tenantId)))
    .limit(1);
  if (!row) {
    throw new AppError({
      code: "NOT_FOUND",
      message: `Chat session ${sessionId} does not exist in this tenant`,
    });
  }
  return row;
}
