import type { Membership, User } from "@vdb/schemas/auth";
import { eq } from "drizzle-orm";
import type { Database } from "../lib/db/client";
import { memberships, type users } from "../lib/db/schema";

type UserRow = typeof users.$inferSelect;

export function toUser(row: UserRow, userMemberships: Membership[]): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    isOperator: row.isOperator,
    mustChangePassword: row.mustChangePassword,
    memberships: userMemberships,
    createdAt: row.createdAt.toISOString(),
  };
}

export async function loadMemberships(db: Database, userId: string): Promise<Membership[]> {
  return db
    .select({ tenantId: memberships.tenantId, role: memberships.role })
    .from(memberships)
    .where(eq(memberships.userId, userId))
    .orderBy(memberships.createdAt);
}
