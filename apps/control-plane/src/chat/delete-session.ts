import { ChatSessionRef } from "@vdb/schemas/chat";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { chatSessions } from "../lib/db/schema";
import { findSessionOrThrow } from "./to-chat";

/** Deletes a session and its messages. Reading chats needs `read`; erasing one needs `write`. */
export async function deleteSession({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: ChatSessionRef;
}): Promise<{ deleted: true }> {
  const { tenantId, sessionId } = ChatSessionRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "write");
  const { db } = ctx.services;
  await findSessionOrThrow(db, tenantId, sessionId);
  await db.transaction(async (tx) => {
    await tx.delete(chatSessions).where(eq(chatSessions.id, sessionId));
    await recordAudit({
      ctx,
      db: tx,
      input: { tenantId, action: "chat.session.delete", targetId: sessionId },
    });
  });
  return { deleted: true };
}
