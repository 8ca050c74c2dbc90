import type { TRPCRouterRecord } from "@trpc/server";
import { AuditEntry, ListAuditInput } from "@vdb/schemas/audit";
import { pageOf } from "@vdb/schemas/pagination";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { listAudit } from "./list-audit";

export const auditRouter = {
  list: procedure
    .input(ListAuditInput)
    .output(pageOf(AuditEntry))
    .query(({ ctx, input }) => listAudit({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
