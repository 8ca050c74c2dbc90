import type { TRPCRouterRecord } from "@trpc/server";
import {
  CreateWidgetInput,
  ListWidgetsInput,
  UpdateWidgetInput,
  Widget,
  WidgetRef,
} from "@vdb/schemas/widgets";
import { z } from "zod";
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
    .output(z.array(Widget))
    .query(({ ctx, input }) => listWidgets({ ctx: verbCtx(ctx), input })),
  get: procedure
    .input(WidgetRef)
    .output(Widget)
    .query(({ ctx, input }) => getWidget({ ctx: verbCtx(ctx), input })),
  create: procedure
    .input(CreateWidgetInput)
    .output(Widget)
    .mutation(({ ctx, input }) => createWidget({ ctx: verbCtx(ctx), input })),
  update: procedure
    .input(UpdateWidgetInput)
    .output(Widget)
    .mutation(({ ctx, input }) => updateWidget({ ctx: verbCtx(ctx), input })),
  delete: procedure
    .input(WidgetRef)
    .output(Widget)
    .mutation(({ ctx, input }) => deleteWidget({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
