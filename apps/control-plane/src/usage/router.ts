import type { TRPCRouterRecord } from "@trpc/server";
import { UsageQuery, UsageReport, UsageSummary, UsageSummaryQuery } from "@vdb/schemas/usage";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { getUsage, getUsageSummary } from "./get-usage";

export const usageRouter = {
  get: procedure
    .input(UsageQuery)
    .output(UsageReport)
    .query(({ ctx, input }) => getUsage({ ctx: verbCtx(ctx), input })),
  /** Operators only. */
  summary: procedure
    .input(UsageSummaryQuery)
    .output(UsageSummary)
    .query(({ ctx, input }) => getUsageSummary({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
