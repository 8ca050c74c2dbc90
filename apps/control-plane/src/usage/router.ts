import type { TRPCRouterRecord } from "@trpc/server";
import { UsageQuery, UsageSummaryQuery } from "@vdb/schemas/usage";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { getUsage, getUsageSummary } from "./get-usage";

export const usageRouter = {
  get: procedure.input(UsageQuery).query(({ ctx, input }) => getUsage({ ctx: verbCtx(ctx), input })),
  /** Operators only. */
  summary: procedure
    .input(UsageSummaryQuery)
    .query(({ ctx, input }) => getUsageSummary({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
