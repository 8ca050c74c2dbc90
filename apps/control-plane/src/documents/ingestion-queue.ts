import { AppError } from "@vdb/http/errors";
import type { IngestionStatus } from "@vdb/schemas/documents";
import { and, count, eq, gt, inArray, min, sql } from "drizzle-orm";
import { servingInstance } from "../instances/serving-instance";
import type { Database } from "../lib/db/client";
import { jobs } from "../lib/db/schema";
import { INGEST_JOB } from "./ingest-job";

/** How far back finished ingestions count towards the pace. */
const PACE_WINDOW_MINUTES = 10;
/** A pace measured over less than this is too noisy to promise by. */
const MIN_PACE_SPAN_SECONDS = 60;
/** Retry-After when no pace is known yet (nothing finished lately). */
const UNKNOWN_PACE_RETRY_SECONDS = 60;
const MAX_RETRY_SECONDS = 3_600;

/** The tenant's ingestion queue as the store has it now. */
export async function measureIngestionQueue(
  db: Database,
  tenantId: string,
  maxDepth: number,
): Promise<IngestionStatus> {
  const isTenantIngestion = and(eq(jobs.tenantId, tenantId), eq(jobs.kind, INGEST_JOB));
  const [byStatus, [finished], [instance]] = await Promise.all([
    db
      .select({ status: jobs.status, n: count() })
      .from(jobs)
      .where(and(isTenantIngestion, inArray(jobs.status, ["queued", "running"])))
      .groupBy(jobs.status),
    db
      .select({
        n: count(),
        spanSeconds: sql<number | string | null>`extract(epoch from now() - ${min(jobs.finishedAt)})`,
      })
      .from(jobs)
      .where(
        and(
          isTenantIngestion,
          gt(jobs.finishedAt, sql`now() - ${`${PACE_WINDOW_MINUTES} minutes`}::interval`),
        ),
      ),
    // The tenant's own instance, or its pool.
    servingInstance(db, tenantId).then((serving) => (serving ? [serving.row] : [])),
  ]);
  const queued = byStatus.find((row) => row.status === "queued")?.n ?? 0;
  const processing = byStatus.find((row) => row.status === "running")?.n ?? 0;
  const depth = queued + processing;
  const done = finished?.n ?? 0;
  const span = Math.max(MIN_PACE_SPAN_SECONDS, Number(finished?.spanSeconds ?? 0));
  const perSecond = done / span;
  const pausedReason =
    depth === 0
      ? null
      : !instance
        ? "the tenant has no instance: launch it and ingestion starts"
        : instance.state !== "running" || instance.desiredState !== "running"
          ? `waiting for the tenant's instance, which is ${instance.desiredState === "running" ? instance.state : "stopped"}`
          : null;
  return {
    tenantId,
    queued,
    processing,
    depth,
    maxDepth,
    throughputPerMinute: Math.round(perSecond * 60 * 10) / 10,
    expectedWaitSeconds: perSecond > 0 ? Math.ceil(depth / perSecond) : depth === 0 ? 0 : null,
    pausedReason,
  };
}

/**
 * Refuses new ingestion of `adding` documents when the tenant's queue would go past its bound:
 * RATE_LIMITED (429) with a Retry-After of when, at the recent pace, there is room again. A soft
 * bound: requests checked at the same moment may each take the last places.
 */
export async function assertIngestionQueueHasRoom(
  db: Database,
  tenantId: string,
  maxDepth: number,
  adding = 1,
): Promise<void> {
  const queue = await measureIngestionQueue(db, tenantId, maxDepth);
  if (queue.depth + adding <= maxDepth) return;
  const perSecond = queue.throughputPerMinute / 60;
  const overflow = queue.depth + adding - maxDepth;
  const retryAfterSeconds =
    perSecond > 0 && !queue.pausedReason
      ? Math.min(MAX_RETRY_SECONDS, Math.max(1, Math.ceil(overflow / perSecond)))
      : UNKNOWN_PACE_RETRY_SECONDS;
  throw new AppError({
    code: "RATE_LIMITED",
    message: `This tenant's ingestion queue is full: ${queue.depth} documents queued or in ingestion (at most ${maxDepth})${queue.pausedReason ? `, ${queue.pausedReason}` : ""}. Nothing was stored; retry in ${retryAfterSeconds} s.`,
    retryAfterSeconds,
  });
}
