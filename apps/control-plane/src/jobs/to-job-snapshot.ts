import type { jobs } from "../lib/db/schema";
import type { JobSnapshot } from "./schemas";

export type JobRow = typeof jobs.$inferSelect;

export function toJobSnapshot(row: JobRow): JobSnapshot {
  return {
    id: row.id,
    tenantId: row.tenantId,
    kind: row.kind,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    progress: { done: row.progressDone, total: row.progressTotal },
    lastError: row.lastError,
    lockedBy: row.lockedBy,
    lockedUntil: row.lockedUntil?.toISOString() ?? null,
    runAfter: row.runAfter.toISOString(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
