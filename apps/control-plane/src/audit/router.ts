import type { TRPCRouterRecord } from "@trpc/server";
import { ListAuditInput } from "@vdb/schemas/audit";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { listAudit } from "./list-audit";

export const auditRouter = {
  list: procedure.input(ListAuditInput).query(({ ctx, input }) => listAudit({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
