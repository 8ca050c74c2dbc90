import type { TRPCRouterRecord } from "@trpc/server";
import { CreateUserInput } from "@vdb/schemas/auth";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { createUser } from "./create-user";

export const usersRouter = {
  create: procedure
    .input(CreateUserInput)
    .mutation(({ ctx, input }) => createUser({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
