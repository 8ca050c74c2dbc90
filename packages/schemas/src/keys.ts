import { z } from "zod";
import { Scope } from "./auth";
import { ApiKeyId, TenantId } from "./ids";
import { PageInput } from "./pagination";

export const ApiKeyScopes = z
  .array(Scope)
  .min(1, { message: "must name at least one scope" })
  .max(3)
  .refine((scopes) => new Set(scopes).size === scopes.length, { message: "must not repeat a scope" });

export const CreateApiKeyInput = z.strictObject({
  tenantId: TenantId,
  name: z.string().trim().min(1).max(100),
  scopes: ApiKeyScopes,
  /** Optional expiry; must be in the future. */
  expiresAt: z.iso
    .datetime()
    .optional()
    .refine((value) => value === undefined || Date.parse(value) > Date.now(), {
      message: "must be in the future",
    }),
});
export type CreateApiKeyInput = z.infer<typeof CreateApiKeyInput>;

export const ApiKey = z.object({
  id: ApiKeyId,
  tenantId: TenantId,
  name: z.string(),
  /** The first characters of the secret, to tell keys apart; never enough to use it. */
  start: z.string(),
  scopes: z.array(Scope),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** Returned once, at creation: the only time the secret is ever shown. */
export const CreatedApiKey = ApiKey.extend({ secret: z.string() });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ListApiKeysInput = PageInput.extend({
  tenantId: TenantId,
  includeRevoked: z.coerce.boolean().default(false),
});
export type ListApiKeysInput = z.infer<typeof ListApiKeysInput>;

export const ApiKeyRef = z.strictObject({ tenantId: TenantId, keyId: ApiKeyId });
export type ApiKeyRef = z.infer<typeof ApiKeyRef>;
