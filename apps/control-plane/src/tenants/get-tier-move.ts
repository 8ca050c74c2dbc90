import { AppError } from "@vdb/http/errors";
import { TenantRef, type TierMove, TierMoveRef } from "@vdb/schemas/tenants";
import { and, desc, eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import { watchJob } from "../backups/watch-job";
import { toJobSnapshot } from "../jobs/to-job-snapshot";
import type { Ctx } from "../lib/context";
import { jobs } from "../lib/db/schema";
import { TIER_MOVE_JOB, toTierMove } from "./tier-move-job";

/** A tenant's move between tiers (its members may read it; another tenant's is not found). */
export async function getTierMove({ ctx, input }: { ctx: Ctx; input: TierMoveRef }): Promise<TierMove> {
  const { tenantId, moveId } = TierMoveRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const job = await ctx.services.jobs.get(moveId);
  if (!job || job.tenantId !== tenantId || job.kind !== TIER_MOVE_JOB) {
    throw new AppError({ code: "NOT_FOUND", message: "No such move in this tenant" });
  }
  return toTierMove(job);
}

/** Yields the move now and at every change of its progress, until it has finished. */
export async function* watchTierMove({
  ctx,
  input,
  signal,
}: {
  ctx: Ctx;
  input: TierMoveRef;
  signal?: AbortSignal;
}): AsyncGenerator<TierMove> {
  const ref = TierMoveRef.parse(input);
  yield* watchJob(ctx, {
    read: () => getTierMove({ ctx, input: ref }),
    key: (move) => `${move.status}|${move.progress.done}|${move.progress.total}|${move.lastError}`,
    isDone: (move) => move.status !== "queued" && move.status !== "running",
    ...(signal ? { signal } : {}),
  });
}

/**
 * Yields the tenant's latest tier move (null: it never moved) now and at every change, until
 * `signal` aborts: what the console's overview shows as "moving…".
 */
export async function* watchLatestTierMove({
  ctx,
  input,
  signal,
}: {
  ctx: Ctx;
  input: TenantRef;
  signal?: AbortSignal;
}): AsyncGenerator<TierMove | null> {
  const { tenantId } = TenantRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const { db } = ctx.services;
  yield* watchJob<TierMove | null>(ctx, {
    read: async () => {
      const [row] = await db
        .select()
        .from(jobs)
        .where(and(eq(jobs.tenantId, tenantId), eq(jobs.kind, TIER_MOVE_JOB)))
        .orderBy(desc(jobs.createdAt), desc(jobs.id))
        .limit(1);
      return row ? toTierMove(toJobSnapshot(row)) : null;
    },
    key: (move) =>
      move
        ? `${move.id}|${move.status}|${move.progress.done}|${move.progress.total}|${move.lastError}`
        : "none",
    isDone: () => false,
    ...(signal ? { signal } : {}),
  });
}
