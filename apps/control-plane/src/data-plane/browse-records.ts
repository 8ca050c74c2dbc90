import type { DeleteResponse, GetRecordsResponse } from "@vdb/schemas/instances";
import { recordAudit } from "../audit/record-audit";
import type { Ctx } from "../lib/context";
import { instanceAnswer } from "./instance-answer";
import { dataPlaneTenant } from "./instance-client";
import { DeleteRecordsInput, GetRecordsInput } from "./schemas";

/** A page of a collection's records (ids, filter, offset) for a console user: same as `POST /api/v1/records`. */
export async function getRecords({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: GetRecordsInput;
}): Promise<GetRecordsResponse> {
  const { tenantId, request } = GetRecordsInput.parse(input);
  const result = await ctx.services.instances.call(ctx, {
    tenantId: dataPlaneTenant(ctx, tenantId),
    scope: "read",
    method: "POST",
    path: "/records",
    body: request,
  });
  return instanceAnswer(result) as GetRecordsResponse;
}

/**
 * Deletes records from the console's browser: the data plane's `/delete`, plus an audit entry
 * (a person removing data by hand is worth a trace; API deletes are metered, not audited).
 */
export async function deleteRecords({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: DeleteRecordsInput;
}): Promise<DeleteResponse> {
  const { tenantId, request } = DeleteRecordsInput.parse(input);
  const result = await ctx.services.instances.call(ctx, {
    tenantId: dataPlaneTenant(ctx, tenantId),
    scope: "write",
    method: "POST",
    path: "/delete",
    body: request,
  });
  const answer = instanceAnswer(result) as DeleteResponse;
  await recordAudit({
    ctx,
    db: ctx.services.db,
    input: {
      tenantId,
      action: "records.delete",
      targetId: null,
      metadata: {
        collection: answer.collection,
        deleted: answer.deleted,
        ...(request.ids ? { ids: request.ids.slice(0, 20) } : {}),
        ...(request.where ? { where: request.where } : {}),
      },
    },
  });
  return answer;
}
