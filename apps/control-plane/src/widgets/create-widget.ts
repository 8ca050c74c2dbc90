import { newId } from "@vdb/schemas/ids";
import { CreateWidgetInput, type Widget } from "@vdb/schemas/widgets";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { widgets } from "../lib/db/schema";
import { findTenantOrThrow } from "../tenants/to-tenant";
import { toWidget } from "./to-widget";

/** Creates a chat widget for a tenant; needs `admin` on it (the widget speaks for the tenant in public). */
export async function createWidget({ ctx, input }: { ctx: Ctx; input: CreateWidgetInput }): Promise<Widget> {
  const data = CreateWidgetInput.parse(input);
  requireTenantScope(ctx.principal, data.tenantId, "admin");
  return ctx.services.db.transaction(async (tx) => {
    await findTenantOrThrow(tx, data.tenantId);
    const [row] = await tx
      .insert(widgets)
      .values({
        id: newId("widget"),
        tenantId: data.tenantId,
        name: data.name,
        allowedOrigins: data.allowedOrigins,
        theme: data.theme,
        collection: data.collection,
        enabled: data.enabled,
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    await recordAudit({
      ctx,
      db: tx,
      input: {
        tenantId: data.tenantId,
        action: "widget.create",
        targetId: row.id,
        metadata: { allowedOrigins: data.allowedOrigins },
      },
    });
    return toWidget(row);
  });
}
