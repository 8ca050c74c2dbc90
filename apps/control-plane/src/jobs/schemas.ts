import { JobId, TenantId } from "@vdb/schemas/ids";
import { PageInput } from "@vdb/schemas/pagination";
import { z } from "zod";

/** `dead` is the dead-letter state (retries used up); `failed` is a permanent error or a cancel. */
export const JobStatus = z.enum(["queued", "running", "succeeded", "failed", "dead"]);
export type JobStatus = z.infer<typeof JobStatus>;

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "dead"];

export function isTerminalJobStatus(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.includes(status);
}

export const JobSnapshot = z.object({
  id: JobId,
  tenantId: TenantId.nullable(),
  kind: z.string(),
  payload: z.record(z.string(), z.unknown()),
  status: JobStatus,
  /** Attempts started so far, this one included while `running`. */
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  progress: z.object({ done: z.number().int(), total: z.number().int() }),
  lastError: z.string().nullable(),
  /** The worker holding (or, once finished, that last held) the job. */
  lockedBy: z.string().nullable(),
  lockedUntil: z.iso.datetime().nullable(),
  runAfter: z.iso.datetime(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
});
export type JobSnapshot = z.infer<typeof JobSnapshot>;

export const EnqueueJobInput = z.object({
  kind: z.string().min(1).max(100),
  tenantId: TenantId.optional(),
  payload: z.record(z.string(), z.unknown()).default({}),
  maxAttempts: z.number().int().min(1).max(100).default(5),
  /** Not before this time (default: now). */
  runAfter: z.date().optional(),
});
export type EnqueueJobInput = z.input<typeof EnqueueJobInput>;

export const ListJobsInput = PageInput.extend({
  tenantId: TenantId.optional(),
  status: JobStatus.optional(),
  kind: z.string().min(1).max(100).optional(),
});
export type ListJobsInput = z.input<typeof ListJobsInput>;
