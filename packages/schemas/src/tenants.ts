import { z } from "zod";
import { JobId, TenantId } from "./ids";
import { PageInput } from "./pagination";
import { Plan, Tier } from "./plans";

export const TenantSlug = z
  .string()
  .min(3, { message: "must be at least 3 characters" })
  .max(40, { message: "must be at most 40 characters" })
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, {
    message: "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit",
  });

export const TenantName = z.string().trim().min(1, { message: "must not be empty" }).max(100);

export const Tenant = z.object({
  id: TenantId,
  slug: TenantSlug,
  name: z.string(),
  plan: Plan,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Tenant = z.infer<typeof Tenant>;

export const CreateTenantInput = z.strictObject({
  slug: TenantSlug,
  name: TenantName,
  plan: Plan.default("starter"),
});
export type CreateTenantInput = z.infer<typeof CreateTenantInput>;

export const ListTenantsInput = PageInput.extend({
  /** Case-insensitive match on slug or name. */
  search: z.string().trim().max(100).optional(),
});
export type ListTenantsInput = z.infer<typeof ListTenantsInput>;

export const TenantRef = z.strictObject({ tenantId: TenantId });
export type TenantRef = z.infer<typeof TenantRef>;

export const ChangeTenantPlanInput = z.strictObject({ tenantId: TenantId, plan: Plan });
export type ChangeTenantPlanInput = z.infer<typeof ChangeTenantPlanInput>;

export const RenameTenantInput = z.strictObject({ tenantId: TenantId, name: TenantName });
export type RenameTenantInput = z.infer<typeof RenameTenantInput>;

/**
 * A tenant's move between tiers (a plan change from a shared plan to a dedicated one, or back):
 * its records are copied to the new place, then the tenant is switched there at once and the old
 * place emptied. While it runs the tenant's writes are refused (503, Retry-After); reads answer
 * from where it was. `progress` counts records copied.
 */
export const TierMove = z.object({
  id: JobId,
  tenantId: TenantId,
  fromPlan: Plan,
  toPlan: Plan,
  fromTier: Tier,
  toTier: Tier,
  status: z.enum(["queued", "running", "succeeded", "failed", "dead"]),
  progress: z.object({ done: z.number().int(), total: z.number().int() }),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
});
export type TierMove = z.infer<typeof TierMove>;

/** A plan change's answer: the tenant, and the move it started when the tier changes (else null). */
export const PlanChange = Tenant.extend({ move: TierMove.nullable() });
export type PlanChange = z.infer<typeof PlanChange>;

export const TierMoveRef = z.strictObject({ tenantId: TenantId, moveId: JobId });
export type TierMoveRef = z.infer<typeof TierMoveRef>;
