import { type ApiKey, ListApiKeysInput } from "@vdb/schemas/keys";
import { and, desc, eq, isNull, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { olderThanCursor, toPage } from "../lib/cursor";
import { apiKeys } from "../lib/db/schema";
import { toApiKey } from "./to-api-key";

/** A tenant's keys, newest first, without secrets; revoked ones only when asked. */
export async function listApiKeys({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: z.input<typeof ListApiKeysInput>;
}): Promise<{ items: ApiKey[]; nextCursor: string | null }> {
  const { tenantId, limit, cursor, includeRevoked } = ListApiKeysInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  const older = olderThanCursor(cursor, { createdAt: apiKeys.createdAt, id: apiKeys.id });
  const filters: SQL[] = [eq(apiKeys.tenantId, tenantId)];
  if (!includeRevoked) filters.push(isNull(apiKeys.revokedAt));
  if (older) filters.push(older);
  const rows = await ctx.services.db
    .select()
    .from(apiKeys)
    .where(and(...filters))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(limit + 1);
  return toPage(rows, limit, toApiKey);
}
