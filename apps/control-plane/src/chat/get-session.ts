import { ChatSessionRef, type ChatSessionWithMessages } from "@vdb/schemas/chat";
import { asc, desc, eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { chatMessages } from "../lib/db/schema";
import { findSessionOrThrow, toChatMessage, toChatSession } from "./to-chat";

/** A session with its messages, oldest first: each question followed by its answer. */
export async function getSession({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: ChatSessionRef;
}): Promise<ChatSessionWithMessages> {
  const { tenantId, sessionId } = ChatSessionRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const { db } = ctx.services;
  const session = await findSessionOrThrow(db, tenantId, sessionId);
  const rows = await db
    .select()
    .from(chatMessages)
    .where(eq(chatMessages.sessionId, sessionId))
    // A question and its answer never share a timestamp; should clocks disagree, the question first.
    .orderBy(asc(chatMessages.createdAt), desc(chatMessages.role));
  return { ...toChatSession(session), messages: rows.map(toChatMessage) };
}
