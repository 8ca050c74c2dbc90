import { type ChatSession, ListChatSessionsInput } from "@vdb/schemas/chat";
import { and, desc, eq, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { olderThanCursor, toPage } from "../lib/cursor";
import { chatSessions } from "../lib/db/schema";
import { toChatSession } from "./to-chat";

/** A tenant's chat sessions, most recently active first. */
export async function listSessions({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof ListChatSessionsInput>;
}): Promise<{ items: ChatSession[]; nextCursor: string | null }> {
  const { tenantId, limit, cursor } = ListChatSessionsInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  // The cursor's position is (updatedAt, id): the order of this listing.
  const older = olderThanCursor(cursor, { createdAt: chatSessions.updatedAt, id: chatSessions.id });
  const filters: SQL[] = [eq(chatSessions.tenantId, tenantId)];
  if (older) filters.push(older);
  const rows = await ctx.services.db
    .select()
    .from(chatSessions)
    .where(and(...filters))
    .orderBy(desc(chatSessions.updatedAt), desc(chatSessions.id))
    .limit(limit + 1);
  const positioned = rows.map((row) => ({ id: row.id, createdAt: row.updatedAt, row }));
  return toPage(positioned, limit, ({ row }) => toChatSession(row));
}
