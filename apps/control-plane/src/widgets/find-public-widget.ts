import { AppError } from "@vdb/http/errors";
import type { Plan } from "@vdb/schemas/plans";
import { WidgetId } from "@vdb/schemas/widgets";
import { eq } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { tenants, widgets } from "../lib/db/schema";

export type PublicWidgetRow = typeof widgets.$inferSelect & { plan: Plan };

/**
 * The widget a visitor's request names, with its tenant's plan, read on every request (a
 * disabled widget or a removed origin takes effect at once). A missing widget and a malformed id
 * answer the same NOT_FOUND.
 */
export async function findPublicWidget(db: Database, widgetId: string): Promise<PublicWidgetRow> {
  const notFound = new AppError({
    code: "NOT_FOUND",
    message: `Widget ${widgetId.slice(0, 40)} does not exist`,
  });
  if (!WidgetId.safeParse(widgetId).success) throw notFound;
  const [row] = await db
    .select({ widget: widgets, plan: tenants.plan })
    .from(widgets)
    .innerJoin(tenants, eq(tenants.id, widgets.tenantId))
    .where(eq(widgets.id, widgetId))
    .limit(1);
  if (!row) throw notFound;
  return { ...row.widget, plan: row.plan };
}
