import { AppError } from "@vdb/http/errors";
import { isScopeGranted } from "@vdb/schemas/auth";
import { newId } from "@vdb/schemas/ids";
import { CreateApiKeyInput, type CreatedApiKey } from "@vdb/schemas/keys";
import { PLANS } from "@vdb/schemas/plans";
import { and, count, eq, gt, isNull, or, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import type { Database } from "../lib/db/client";
import { apiKeys } from "../lib/db/schema";
import { hashSecret, newSecret } from "../lib/secrets";
import { findTenantOrThrow } from "../tenants/to-tenant";
import { toApiKey } from "./to-api-key";

/**
 * Creates an API key for a tenant; needs `admin` on it. The secret is in this response only:
 * the store keeps its SHA-256. A key can never carry wider scopes than its creator holds.
 */
export async function createApiKey({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: CreateApiKeyInput;
}): Promise<CreatedApiKey> {
  const data = CreateApiKeyInput.parse(input);
  const principal = requireTenantScope(ctx.principal, data.tenantId, "admin");
  if (principal.kind === "apiKey") {
    const wider = data.scopes.filter((scope) => !isScopeGranted(principal.scopes, scope));
    if (wider.length > 0) {
      throw new AppError({
        code: "FORBIDDEN",
        message: `This key cannot grant scopes it lacks: ${wider.join(", ")}`,
      });
    }
  }
  return ctx.services.db.transaction((tx) => insertApiKey(ctx, tx, data));
}

/**
 * Inserts a key inside the caller's transaction (also used by `generateToken`'s key bundle),
 * within the plan's `maxApiKeys`: minting keys must not multiply what a tenant may do.
 */
export async function insertApiKey(ctx: Ctx, db: Database, data: CreateApiKeyInput): Promise<CreatedApiKey> {
  // The tenant's row is locked so two keys created at once cannot both take the last place.
  const tenant = await findTenantOrThrow(db, data.tenantId, { lock: true });
  const [live] = await db
    .select({ n: count() })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.tenantId, data.tenantId),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`)),
      ),
    );
  const max = PLANS[tenant.plan].maxApiKeys;
  if ((live?.n ?? 0) >= max) {
    throw new AppError({
      code: "QUOTA_EXCEEDED",
      message: `The ${tenant.plan} plan allows ${max} API keys per tenant; revoke one first`,
    });
  }
  const secret = newSecret("vdbk");
  const principal = ctx.principal;
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: newId("apiKey"),
      tenantId: data.tenantId,
      name: data.name,
      start: secret.slice(0, 9),
      keyHash: hashSecret(secret),
      scopes: data.scopes,
      createdBy: principal ? (principal.kind === "user" ? principal.userId : principal.keyId) : null,
      expiresAt: data.expiresAt ? new Date(data.expiresAt) : null,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  await recordAudit({
    ctx,
    db,
    input: {
      tenantId: data.tenantId,
      action: "api_key.create",
      targetId: row.id,
      metadata: { scopes: data.scopes },
    },
  });
  return { ...toApiKey(row), secret };
}
