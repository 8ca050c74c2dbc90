import { type IngestionStatus, IngestionStatusInput } from "@vdb/schemas/documents";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { measureIngestionQueue } from "./ingestion-queue";

/** The tenant's ingestion queue: depth, bound, recent pace, expected wait, and why it waits. */
export async function getIngestionStatus({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: IngestionStatusInput;
}): Promise<IngestionStatus> {
  const { tenantId } = IngestionStatusInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const { db, config } = ctx.services;
  return measureIngestionQueue(db, tenantId, config.INGEST_QUEUE_MAX_PER_TENANT);
}
