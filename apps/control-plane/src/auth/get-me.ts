import type { Principal } from "@vdb/schemas/auth";
import type { Ctx } from "../lib/context";
import { requirePrincipal } from "./authorize";

/** Who the credential of this request belongs to: a user with memberships, or a tenant's key. */
export async function getMe({ ctx }: { ctx: Ctx }): Promise<Principal> {
  return requirePrincipal(ctx.principal);
}
