import { type Widget, WidgetRef } from "@vdb/schemas/widgets";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { widgets } from "../lib/db/schema";
import { findWidgetOrThrow, toWidget } from "./to-widget";

/**
 * Deletes a widget; its snippet stops working (no tokens, and issued ones are refused). Visitors'
 * conversations stay in the tenant's chat sessions, like any other session.
 */
export async function deleteWidget({ ctx, input }: { ctx: Ctx; input: WidgetRef }): Promise<Widget> {
  const { tenantId, widgetId } = WidgetRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  return ctx.services.db.transaction(async (tx) => {
    const row = await findWidgetOrThrow(tx, tenantId, widgetId);
    await tx.delete(widgets).where(eq(widgets.id, widgetId));
    await recordAudit({ ctx, db: tx, input: { tenantId, action: "widget.delete", targetId: widgetId } });
    return toWidget(row);
  });
}
