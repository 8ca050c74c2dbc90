import { z } from "zod";
import { Scope } from "./auth";
import { TenantId } from "./ids";
import { CreatedApiKey } from "./keys";

export const GenerateTokenInput = z.strictObject({
  tenantId: TenantId,
  /** Scopes for the token; default: every scope the caller holds. Never wider than the caller's. */
  scopes: z.array(Scope).min(1).max(3).optional(),
  ttlSeconds: z.number().int().min(60).max(86_400).default(900),
  /** Also create and return a new API key (seed `/generate-token` bundle); needs `admin`. */
  includeApiKey: z.boolean().default(false),
  apiKeyName: z.string().trim().min(1).max(100).default("generated"),
});
export type GenerateTokenInput = z.input<typeof GenerateTokenInput>;

export const InstanceToken = z.object({
  token: z.string(),
  tokenType: z.literal("Bearer"),
  /** The `aud` claim: the tenant's instance. */
  audience: z.string(),
  scopes: z.array(Scope),
  expiresAt: z.iso.datetime(),
  /** Where to send the token (seed 001: the backend hands its client the instance URL); null unless running. */
  instanceUrl: z.string().nullable(),
  apiKey: CreatedApiKey.optional(),
});
export type InstanceToken = z.infer<typeof InstanceToken>;

/** The claims VDB puts in every instance token; instances verify them against the JWKS. */
export const InstanceTokenClaims = z.object({
  iss: z.string(),
  aud: z.string(),
  sub: z.string(),
  tenant: TenantId,
  scope: z.string(),
  exp: z.number(),
  iat: z.number(),
  jti: z.string(),
});
export type InstanceTokenClaims = z.infer<typeof InstanceTokenClaims>;

/** The audience of instance tokens for one tenant. */
export function instanceAudience(tenantId: string): string {
  return `vdb:instance:${tenantId}`;
}

/**
 * The audience of tokens for a shared-tier tenant: its pool, which serves many tenants. Such a
 * token also carries `pool` (the same id) and `tenant`, the one namespace it reaches there.
 */
export function poolAudience(poolId: string): string {
  return `vdb:pool:${poolId}`;
}

export const SigningKeyStatus = z.enum(["active", "previous", "retired"]);
export type SigningKeyStatus = z.infer<typeof SigningKeyStatus>;

export const SigningKey = z.object({
  kid: z.string(),
  alg: z.string(),
  status: SigningKeyStatus,
  createdAt: z.iso.datetime(),
  retiredAt: z.iso.datetime().nullable(),
});
export type SigningKey = z.infer<typeof SigningKey>;

export const RetireSigningKeyInput = z.strictObject({ kid: z.string().min(1).max(100) });
