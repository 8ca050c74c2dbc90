import { type Widget, WidgetRef } from "@vdb/schemas/widgets";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { findWidgetOrThrow, toWidget } from "./to-widget";

/** One widget of a tenant; needs `read` on it. */
export async function getWidget({ ctx, input }: { ctx: Ctx; input: WidgetRef }): Promise<Widget> {
  const { tenantId, widgetId } = WidgetRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  return toWidget(await findWidgetOrThrow(ctx.services.db, tenantId, widgetId));
}
