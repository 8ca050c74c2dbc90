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

export async function findTenantOrThrow(db: Database, tenantId: string) {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, tenantId)).limit(1);
  if (!row) throw new AppError({ code: "NOT_FOUND", message: `Tenant ${tenantId} does not exist` });
  return row;
}
