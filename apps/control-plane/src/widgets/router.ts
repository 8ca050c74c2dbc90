import type { TRPCRouterRecord } from "@trpc/server";
import { CreateWidgetInput, ListWidgetsInput, UpdateWidgetInput, WidgetRef } from "@vdb/schemas/widgets";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { createWidget } from "./create-widget";
import { deleteWidget } from "./delete-widget";
import { getWidget } from "./get-widget";
import { listWidgets } from "./list-widgets";
import { updateWidget } from "./update-widget";

/** The console's widget settings. Visitors never come here: they use the public `/embed/*` routes. */
export const widgetsRouter = {
  list: procedure
    .input(ListWidgetsInput)
    .query(({ ctx, input }) => listWidgets({ ctx: verbCtx(ctx), input })),
  get: procedure.input(WidgetRef).query(({ ctx, input }) => getWidget({ ctx: verbCtx(ctx), input })),
  create: procedure
    .input(CreateWidgetInput)
    .mutation(({ ctx, input }) => createWidget({ ctx: verbCtx(ctx), input })),
  update: procedure
    .input(UpdateWidgetInput)
    .mutation(({ ctx, input }) => updateWidget({ ctx: verbCtx(ctx), input })),
  delete: procedure.input(WidgetRef).mutation(({ ctx, input }) => deleteWidget({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
