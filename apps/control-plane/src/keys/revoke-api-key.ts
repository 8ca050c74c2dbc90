import { AppError } from "@vdb/http/errors";
import { type ApiKey, ApiKeyRef } from "@vdb/schemas/keys";
import { and, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { apiKeys, authInvalidations } from "../lib/db/schema";
import { toApiKey } from "./to-api-key";

/**
 * Revokes a key: at once in this process, within one poll interval in every other one.
 * Revoking a revoked key is a no-op that returns it unchanged.
 */
export async function revokeApiKey({ ctx, input }: { ctx: Ctx; input: ApiKeyRef }): Promise<ApiKey> {
  const { tenantId, keyId } = ApiKeyRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "admin");
  const key = await ctx.services.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.tenantId, tenantId)))
      .limit(1);
    if (!row)
      throw new AppError({ code: "NOT_FOUND", message: `API key ${keyId} does not exist in this tenant` });
    if (row.revokedAt) return row;
    const [revoked] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(eq(apiKeys.id, keyId))
      .returning();
    await tx.insert(authInvalidations).values({ keyId });
    await recordAudit({ ctx, db: tx, input: { tenantId, action: "api_key.revoke", targetId: keyId } });
    return revoked!;
  });
  ctx.services.apiKeys.forgetKey(keyId);
  return toApiKey(key);
}
