import type { SearchResponse } from "@vdb/schemas/instances";
import type { Ctx } from "../lib/context";
import { dataPlaneCall } from "./call-instance";
import { instanceAnswer } from "./instance-answer";
import { SearchTenantInput } from "./schemas";

/**
 * Semantic search in a tenant's instance for a console user (the search playground): the same
 * call and metering as `POST /api/v1/search`, with the tenant named in the input.
 */
export async function searchTenant({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: SearchTenantInput;
}): Promise<SearchResponse> {
  const { tenantId, request } = SearchTenantInput.parse(input);
  const result = await dataPlaneCall(ctx, {
    namedTenant: tenantId,
    scope: "read",
    path: "/search",
    body: request,
  });
  const body = instanceAnswer(result) as SearchResponse;
  ctx.services.usage.record({ tenantId: result.tenantId, kind: "search", quantity: 1 });
  return body;
}
