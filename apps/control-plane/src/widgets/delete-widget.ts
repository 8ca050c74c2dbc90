import { type Widget, WidgetRef } from "@vdb/schemas/widgets";
import { and, eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { chatSessions, widgets } from "../lib/db/schema";
import { findWidgetOrThrow, toWidget } from "./to-widget";

/**
 * Deletes a widget and, in the same transaction, its visitors' conversations (their messages
 * go with them): nobody can reach them any more (visitors' tokens are refused, the widget id is
 * gone), so keeping them would only leave orphans in the tenant's chat sessions. The audit
 * entry records how many were deleted.
 */
export async function deleteWidget({ ctx, input }: { ctx: Ctx; input: WidgetRef }): Promise<Widget> {
  const { tenantId, widgetId } = WidgetRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  return ctx.services.db.transaction(async (tx) => {
    const row = await findWidgetOrThrow(tx, tenantId, widgetId);
    const conversations = await tx
      .delete(chatSessions)
      .where(and(eq(chatSessions.tenantId, tenantId), eq(chatSessions.widgetId, widgetId)))
      .returning({ id: chatSessions.id });
    await tx.delete(widgets).where(eq(widgets.id, widgetId));
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId,
        action: "widget.delete",
        targetId: widgetId,
        metadata: { deletedConversations: conversations.length },
      },
    });
    return toWidget(row);
  });
}
