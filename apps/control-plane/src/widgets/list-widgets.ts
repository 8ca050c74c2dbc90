import { ListWidgetsInput, type Widget } from "@vdb/schemas/widgets";
import { desc, eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { widgets } from "../lib/db/schema";
import { toWidget } from "./to-widget";

/** A tenant's widgets, newest first (a tenant has a handful: no pagination). */
export async function listWidgets({ ctx, input }: { ctx: Ctx; input: ListWidgetsInput }): Promise<Widget[]> {
  const { tenantId } = ListWidgetsInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const rows = await ctx.services.db
    .select()
    .from(widgets)
    .where(eq(widgets.tenantId, tenantId))
    .orderBy(desc(widgets.createdAt), desc(widgets.id));
  return rows.map(toWidget);
}
