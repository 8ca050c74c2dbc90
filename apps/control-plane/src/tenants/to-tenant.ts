import { AppError } from "@vdb/http/errors";
import type { Tenant } from "@vdb/schemas/tenants";
import { eq } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { tenants } from "../lib/db/schema";

export function toTenant(row: typeof tenants.$inferSelect): Tenant {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    plan: row.plan,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * The tenant's row, or 404. `lock`: locked for the rest of the caller's transaction
 * (`select … for update`), so what it decides from the row and its counts cannot race another.
 */
export async function findTenantOrThrow(db: Database, tenantId: string, opts: { lock?: boolean } = {}) {
  const query = db.select().from(tenants).where(eq(tenants.id, tenantId)).limit(1);
  const [row] = await (opts.lock ? query.for("update") : query);
  if (!row) throw new AppError({ code: "NOT_FOUND", message: `Tenant ${tenantId} does not exist` });
  return row;
}
