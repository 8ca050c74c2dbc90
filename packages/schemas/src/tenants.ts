import { z } from "zod";
import { TenantId } from "./ids";
import { PageInput } from "./pagination";
import { Plan } from "./plans";

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
