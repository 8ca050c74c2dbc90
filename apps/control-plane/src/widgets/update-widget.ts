import { UpdateWidgetInput, type Widget, WidgetTheme } from "@vdb/schemas/widgets";
import { eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { widgets } from "../lib/db/schema";
import { findWidgetOrThrow, toWidget } from "./to-widget";

/**
 * Changes any subset of a widget's settings; `theme` fields merge into the current theme.
 * Removing an origin or disabling the widget stops new tokens at once; tokens already issued
 * are refused too, because every chat request re-checks the widget (see `authenticateVisitor`).
 */
export async function updateWidget({ ctx, input }: { ctx: Ctx; input: UpdateWidgetInput }): Promise<Widget> {
  const { tenantId, widgetId, theme, ...fields } = UpdateWidgetInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  return ctx.services.db.transaction(async (tx) => {
    const current = await findWidgetOrThrow(tx, tenantId, widgetId);
    const mergedTheme = theme
      ? WidgetTheme.parse({ ...WidgetTheme.parse(current.theme), ...theme })
      : undefined;
    const [row] = await tx
      .update(widgets)
      .set({ ...fields, ...(mergedTheme ? { theme: mergedTheme } : {}), updatedAt: sql`now()` })
      .where(eq(widgets.id, widgetId))
      .returning();
    if (!row) throw new Error("update returned no row");
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId,
        action: "widget.update",
        targetId: widgetId,
        metadata: { fields: [...Object.keys(fields), ...(theme ? ["theme"] : [])] },
      },
    });
    return toWidget(row);
  });
}
