import type { SearchRequest, SearchResponse } from "@vdb/schemas/instances";
import type { Ctx } from "../lib/context";
import { instanceAnswer } from "./instance-answer";
import { dataPlaneTenant, type InstanceReply, parseReply } from "./instance-client";
import { SearchTenantInput } from "./schemas";

/**
 * One search on a tenant's instance (`/search`), metered as one search when the instance answers
 * it (by the instance client: `isSearch`). Every search surface comes through here: REST
 * `POST /api/v1/search` (which passes the answer through unparsed), the console's playground,
 * named databases' queries, and chat's retrieval (metered as its chat message instead:
 * `metered: false`). Chroma's own `/query` through the gateway is the other search the instance
 * client meters. The request was validated before this.
 */
export async function searchInstance(
  ctx: Ctx,
  opts: { tenantId: string; request: SearchRequest; metered?: boolean },
): Promise<InstanceReply> {
  return ctx.services.instances.forward(ctx, {
    tenantId: opts.tenantId,
    scope: "read",
    method: "POST",
    path: "/search",
    body: JSON.stringify(opts.request),
    isSearch: opts.metered !== false,
  });
}

/** Search in a tenant's instance for a console user (the search playground): `searchInstance`, parsed. */
export async function searchTenant({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: SearchTenantInput;
}): Promise<SearchResponse> {
  const { tenantId, request } = SearchTenantInput.parse(input);
  const reply = await searchInstance(ctx, { tenantId: dataPlaneTenant(ctx, tenantId), request });
  return instanceAnswer(parseReply(reply)) as SearchResponse;
}
