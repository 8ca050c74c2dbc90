import type { Ctx } from "../lib/context";
import type { Services } from "../services";
import type { TrpcContext } from "./trpc";

/** The verb context of a tRPC call (procedures see `services` already typed by `withServices`). */
export function verbCtx(ctx: Omit<TrpcContext, "services"> & { services: Services }): Ctx {
  return { services: ctx.services, principal: ctx.principal, request: ctx.request };
}
