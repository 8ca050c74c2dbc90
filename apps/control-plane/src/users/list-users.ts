import { ListUsersInput, type UserListItem } from "@vdb/schemas/auth";
import { and, asc, desc, eq, inArray, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { requireOperator } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { containsIgnoringCase, olderThanCursor, toPage } from "../lib/cursor";
import { memberships, tenants, users } from "../lib/db/schema";
import { toUser } from "./to-user";

/** Every console user on the platform, newest first, with their tenant roles (operators only). */
export async function listUsers({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof ListUsersInput>;
}): Promise<{ items: UserListItem[]; nextCursor: string | null }> {
  requireOperator(ctx.principal);
  const { limit, cursor, search } = ListUsersInput.parse(input);
  const older = olderThanCursor(cursor, { createdAt: users.createdAt, id: users.id });
  const { db } = ctx.services;
  const filters: SQL[] = [];
  if (search) {
    filters.push(containsIgnoringCase([users.email, users.name], search));
  }
  if (older) filters.push(older);
  const rows = await db
    .select()
    .from(users)
    .where(and(...filters))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(limit + 1);
  const roles = new Map<string, UserListItem["memberships"]>();
  if (rows.length > 0) {
    const held = await db
      .select({
        userId: memberships.userId,
        tenantId: memberships.tenantId,
        role: memberships.role,
        tenantName: tenants.name,
      })
      .from(memberships)
      .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
      .where(
        inArray(
          memberships.userId,
          rows.map((row) => row.id),
        ),
      )
      .orderBy(asc(memberships.createdAt));
    for (const { userId, ...membership } of held) {
      roles.set(userId, [...(roles.get(userId) ?? []), membership]);
    }
  }
  return toPage(rows, limit, (row) => ({ ...toUser(row, []), memberships: roles.get(row.id) ?? [] }));
}
