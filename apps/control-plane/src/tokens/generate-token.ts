import { AppError } from "@vdb/http/errors";
import { isScopeGranted } from "@vdb/schemas/auth";
import { newId } from "@vdb/schemas/ids";
import type { CreatedApiKey } from "@vdb/schemas/keys";
import { GenerateTokenInput, type InstanceToken } from "@vdb/schemas/tokens";
import { requirePrincipal, requireTenantScope, scopesOn } from "../auth/authorize";
import { servingInstance, tokenAddress } from "../instances/serving-instance";
import { insertApiKey } from "../keys/create-api-key";
import type { Ctx } from "../lib/context";
import { findTenantOrThrow } from "../tenants/to-tenant";

/**
 * Seed `/generate-token`: a short-lived JWT for the tenant's instance (instances verify it
 * against the JWKS, holding no secret), optionally bundled with a new API key. Its life is
 * clamped to INSTANCE_TOKEN_MAX_TTL_SECONDS; minted with an API key, it names that key (`key`
 * claim) and instances refuse it once the key is revoked (see listRevokedKeys).
 */
export async function generateToken({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: GenerateTokenInput;
}): Promise<InstanceToken> {
  const data = GenerateTokenInput.parse(input);
  const principal = requirePrincipal(ctx.principal);
  requireTenantScope(principal, data.tenantId, data.includeApiKey ? "admin" : "read");
  const held = scopesOn(principal, data.tenantId);
  const scopes = data.scopes ?? held;
  const wider = scopes.filter((scope) => !isScopeGranted(held, scope));
  if (wider.length > 0) {
    throw new AppError({
      code: "FORBIDDEN",
      message: `Cannot issue a token with scopes the caller lacks: ${wider.join(", ")}`,
    });
  }

  const { services } = ctx;
  let apiKey: CreatedApiKey | undefined;
  if (data.includeApiKey) {
    apiKey = await services.db.transaction((tx) =>
      insertApiKey(ctx, tx, { tenantId: data.tenantId, name: data.apiKeyName, scopes }),
    );
  } else {
    await findTenantOrThrow(services.db, data.tenantId);
  }

  // A shared-tier tenant's token is for its pool (which reads the namespace from `tenant`).
  const serving = await servingInstance(services.db, data.tenantId);
  const address = tokenAddress(data.tenantId, serving?.poolId ?? null);
  const audience = address.aud;
  const ttlSeconds = Math.min(data.ttlSeconds, services.config.INSTANCE_TOKEN_MAX_TTL_SECONDS);
  const { token, expiresAt } = await services.signingKeys.sign(
    {
      iss: services.config.publicUrl,
      ...address,
      sub: principal.kind === "user" ? principal.userId : principal.keyId,
      tenant: data.tenantId,
      scope: scopes.join(" "),
      jti: newId("request"),
      ...(principal.kind === "apiKey" ? { key: principal.keyId } : {}),
    },
    ttlSeconds,
  );
  const instance = serving?.row;
  return {
    token,
    tokenType: "Bearer",
    instanceUrl: instance?.state === "running" ? instance.url : null,
    audience,
    scopes,
    expiresAt: expiresAt.toISOString(),
    ...(apiKey ? { apiKey } : {}),
  };
}
