import { z } from "zod";

export const Plan = z.enum(["free", "starter", "pro", "enterprise"]);
export type Plan = z.infer<typeof Plan>;

export const PlanQuotas = z.object({
  /** Documents (uploaded files and texts, each ingested into chunks) a tenant may keep. */
  maxDocuments: z.number().int().positive(),
  /**
   * Records (vectors with their text and metadata: a document's chunks, and what `/embed`, the
   * Chroma gateway, imports and restores write) a tenant may store across all its collections:
   * what its instance enforces as MAX_DOCS.
   */
  maxRecords: z.number().int().positive(),
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

/**
 * Where a plan's tenants live: `dedicated`, an instance (and Chroma) of their own; `shared`, a
 * namespace of their own in a pool instance serving many tenants (one process and one Chroma for
 * up to POOL_TENANTS_MAX of them). The same APIs either way.
 */
export const Tier = z.enum(["shared", "dedicated"]);
export type Tier = z.infer<typeof Tier>;

/** A plan's other settings, beside its quotas. */
export interface PlanSettings {
  title: string;
  tier: Tier;
  /**
   * How long a dedicated instance may go without a data-plane request before it is put to sleep
   * (stopped, data kept; the next request wakes it); 0: never. The control plane's
   * INSTANCE_SLEEP_AFTER_IDLE_MS, when set, overrides it for every plan.
   */
  sleepAfterIdleMs: number;
  /**
   * Scheduled backups: one every `backupEveryMs` (0: none), counted from the tenant's creation
   * and then from its last scheduled backup; the newest `backupsKept` completed ones are kept,
   * older ones deleted. Backups taken by hand are never deleted by the schedule.
   */
  backupEveryMs: number;
  backupsKept: number;
}

const DAY_MS = 24 * 60 * 60_000;

/** The one table of plans and their quotas; every quota check reads it from here. */
export const PLANS: Record<Plan, PlanQuotas & PlanSettings> = {
  free: {
    title: "Free",
    tier: "shared",
    maxDocuments: 1_000,
    maxRecords: 1_000,
    maxCollections: 3,
    requestsPerSecond: 5,
    maxApiKeys: 3,
    maxUploadBytes: 5 * 1024 * 1024,
    // A pool never sleeps: it serves many tenants, and a pool tenant costs little while idle.
    sleepAfterIdleMs: 0,
    backupEveryMs: 0,
    backupsKept: 0,
  },
  starter: {
    title: "Starter",
    tier: "dedicated",
    maxDocuments: 10_000,
    maxRecords: 10_000,
    maxCollections: 5,
    requestsPerSecond: 10,
    maxApiKeys: 10,
    maxUploadBytes: 10 * 1024 * 1024,
    sleepAfterIdleMs: 15 * 60_000,
    backupEveryMs: 0,
    backupsKept: 0,
  },
  pro: {
    title: "Pro",
    tier: "dedicated",
    maxDocuments: 1_000_000,
    maxRecords: 1_000_000,
    maxCollections: 50,
    requestsPerSecond: 100,
    maxApiKeys: 100,
    maxUploadBytes: 50 * 1024 * 1024,
    sleepAfterIdleMs: 0,
    backupEveryMs: DAY_MS,
    backupsKept: 7,
  },
  enterprise: {
    title: "Enterprise",
    tier: "dedicated",
    maxDocuments: 50_000_000,
    maxRecords: 50_000_000,
    maxCollections: 1_000,
    requestsPerSecond: 1_000,
    maxApiKeys: 1_000,
    maxUploadBytes: 200 * 1024 * 1024,
    sleepAfterIdleMs: 0,
    backupEveryMs: DAY_MS,
    backupsKept: 30,
  },
};
