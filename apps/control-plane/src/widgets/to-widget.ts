import { AppError } from "@vdb/http/errors";
import { type Widget, WidgetTheme } from "@vdb/schemas/widgets";
import { and, eq } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { widgets } from "../lib/db/schema";

export function toWidget(row: typeof widgets.$inferSelect): Widget {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    allowedOrigins: row.allowedOrigins,
    // Parsing fills defaults for theme fields added after the row was written.
    theme: WidgetTheme.parse(row.theme),
    collection: row.collection,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The widget `widgetId` of `tenantId`; another tenant's widget is "not found", never revealed. */
export async function findWidgetOrThrow(db: Database, tenantId: string, widgetId: string) {
  const [row] = await db
    .select()
    .from(widgets)
    .where(and(eq(widgets.id, widgetId), eq(widgets.tenantId, tenantId)))
    .limit(1);
  if (!row)
    throw new AppError({ code: "NOT_FOUND", message: `Widget ${widgetId} does not exist in this tenant` });
  return row;
}
