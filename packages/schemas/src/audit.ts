import { z } from "zod";
import { TenantId } from "./ids";
import { PageInput } from "./pagination";

export const ActorType = z.enum(["user", "apiKey", "system"]);
export type ActorType = z.infer<typeof ActorType>;

export const AuditEntry = z.object({
  id: z.string(),
  tenantId: z.string().nullable(),
  actorType: ActorType,
  actorId: z.string().nullable(),
  /** Who `actorId` is: a user's email or an API key's name; null for the system or a deleted one. */
  actorName: z.string().nullable(),
  action: z.string(),
  targetId: z.string().nullable(),
  /** What `targetId` names, when it is a user (email) or an API key (name) that still exists. */
  targetName: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const ListAuditInput = PageInput.extend({
  /** Required unless the caller is an operator. */
  tenantId: TenantId.optional(),
  action: z.string().max(100).optional(),
});
export type ListAuditInput = z.infer<typeof ListAuditInput>;
