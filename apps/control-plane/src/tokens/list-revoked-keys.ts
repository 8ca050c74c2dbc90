import { TenantId } from "@vdb/schemas/ids";
import { and, eq, gt, isNotNull, lte, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Ctx } from "../lib/context";
import { apiKeys } from "../lib/db/schema";
import { activeTierMove } from "../tenants/tier-move-job";

export const RevokedKeysInput = z.strictObject({ tenant: TenantId });
export type RevokedKeysInput = z.infer<typeof RevokedKeysInput>;

export const RevokedKeys = z.object({
  tenant: TenantId,
  /** Ids of the tenant's API keys revoked or expired within `windowSeconds`. */
  keys: z.array(z.string()),
  windowSeconds: z.number().int(),
  writesPaused: z
    .boolean()
    .describe(
      "True while the tenant moves between tiers: its instance refuses writes from tokens sent to it directly (503), as the control plane refuses writes through it, until the move has finished.",
    ),
});
export type RevokedKeys = z.infer<typeof RevokedKeys>;

// Covers a token minted just before its key's revocation plus clock skew between machines.
const WINDOW_MARGIN_SECONDS = 120;

/**
 * What an instance needs to refuse tokens minted with a key that no longer works: the tenant's
 * keys revoked or expired recently. Older ones are left out, since every token they minted has
 * expired (tokens live at most INSTANCE_TOKEN_MAX_TTL_SECONDS). Public, like the JWKS beside it:
 * instances hold no credential, and a key id authenticates nothing. Beside them, whether the
 * tenant's writes are paused by a tier move, for writes sent to the instance directly.
 */
export async function listRevokedKeys({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: RevokedKeysInput;
}): Promise<RevokedKeys> {
  const { tenant } = RevokedKeysInput.parse(input);
  const windowSeconds = ctx.services.config.INSTANCE_TOKEN_MAX_TTL_SECONDS + WINDOW_MARGIN_SECONDS;
  const since = sql`now() - make_interval(secs => ${windowSeconds})`;
  const rows = await ctx.services.db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.tenantId, tenant),
        or(
          gt(apiKeys.revokedAt, since),
          and(isNotNull(apiKeys.expiresAt), lte(apiKeys.expiresAt, sql`now()`), gt(apiKeys.expiresAt, since)),
        ),
      ),
    );
  const writesPaused = (await activeTierMove(ctx.services.db, tenant)) !== null;
  return { tenant, keys: rows.map((row) => row.id), windowSeconds, writesPaused };
}
