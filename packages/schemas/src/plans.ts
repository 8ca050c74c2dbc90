import { z } from "zod";

export const Plan = z.enum(["starter", "pro", "enterprise"]);
export type Plan = z.infer<typeof Plan>;

export const PlanQuotas = z.object({
  /** Documents a tenant may store across all its collections. */
  maxDocuments: z.number().int().positive(),
  maxCollections: z.number().int().positive(),
  /**
   * Sustained requests per second allowed per API key, and per tenant across all its keys and
   * console sessions (bursts of twice that); enforced by the control plane and the instance.
   */
  requestsPerSecond: z.number().int().positive(),
  /** API keys a tenant may hold at once (revoked and expired ones do not count). */
  maxApiKeys: z.number().int().positive(),
  /** Largest single file a document upload may be. */
  maxUploadBytes: z.number().int().positive(),
});
export type PlanQuotas = z.infer<typeof PlanQuotas>;

/** The one table of plans and their quotas; every quota check reads it from here. */
export const PLANS: Record<Plan, PlanQuotas & { title: string }> = {
  starter: {
    title: "Starter",
    maxDocuments: 10_000,
    maxCollections: 5,
    requestsPerSecond: 10,
    maxApiKeys: 10,
    maxUploadBytes: 10 * 1024 * 1024,
  },
  pro: {
    title: "Pro",
    maxDocuments: 1_000_000,
    maxCollections: 50,
    requestsPerSecond: 100,
    maxApiKeys: 100,
    maxUploadBytes: 50 * 1024 * 1024,
  },
  enterprise: {
    title: "Enterprise",
    maxDocuments: 50_000_000,
    maxCollections: 1_000,
    requestsPerSecond: 1_000,
    maxApiKeys: 1_000,
    maxUploadBytes: 200 * 1024 * 1024,
  },
};
