import type { Collection } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import type { Ctx } from "../lib/context";
import { instanceAnswer } from "./instance-answer";

/**
 * The collections of a tenant's running instance, with their model, dimension and record count.
 * A look, not use: the console refreshes these counts every few seconds while its overview is
 * open, which must not keep an otherwise idle instance awake (a sleeping one is still woken).
 */
export async function listCollections({ ctx, input }: { ctx: Ctx; input: TenantRef }): Promise<Collection[]> {
  const { tenantId } = TenantRef.parse(input);
  const result = await ctx.services.instances.call(ctx, {
    tenantId,
    scope: "read",
    method: "GET",
    path: "/collections",
    countsAsUse: false,
  });
  return instanceAnswer(result) as Collection[];
}
