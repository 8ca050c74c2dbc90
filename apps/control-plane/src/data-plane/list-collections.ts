import type { Collection } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import type { Ctx } from "../lib/context";
import { callInstance } from "./call-instance";
import { instanceAnswer } from "./instance-answer";

/** The collections of a tenant's running instance, with their model, dimension and record count. */
export async function listCollections({ ctx, input }: { ctx: Ctx; input: TenantRef }): Promise<Collection[]> {
  const { tenantId } = TenantRef.parse(input);
  const result = await callInstance(ctx, { tenantId, scope: "read", method: "GET", path: "/collections" });
  return instanceAnswer(result) as Collection[];
}
