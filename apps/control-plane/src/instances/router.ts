import type { TRPCRouterRecord } from "@trpc/server";
import { Instance, LaunchInstanceInput } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { deleteInstance, stopInstance } from "./change-instance-state";
import { getInstance } from "./get-instance";
import { launchInstance } from "./launch-instance";
import { watchInstance } from "./watch-instance";

export const instancesRouter = {
  launch: procedure
    .input(LaunchInstanceInput)
    .output(Instance)
    .mutation(({ ctx, input }) => launchInstance({ ctx: verbCtx(ctx), input })),
  stop: procedure
    .input(TenantRef)
    .output(Instance)
    .mutation(({ ctx, input }) => stopInstance({ ctx: verbCtx(ctx), input })),
  delete: procedure
    .input(TenantRef)
    .output(Instance)
    .mutation(({ ctx, input }) => deleteInstance({ ctx: verbCtx(ctx), input })),
  get: procedure
    .input(TenantRef)
    .output(Instance)
    .query(({ ctx, input }) => getInstance({ ctx: verbCtx(ctx), input })),
  /** Live status over SSE: the current state first, then every change. */
  onStatus: procedure
    .input(TenantRef)
    .subscription(({ ctx, input, signal }) =>
      watchInstance({ ctx: verbCtx(ctx), input, ...(signal ? { signal } : {}) }),
    ),
} satisfies TRPCRouterRecord;
