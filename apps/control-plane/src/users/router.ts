import type { TRPCRouterRecord } from "@trpc/server";
import { AddUserInput, CreateUserInput, ListUsersInput, SetOperatorInput, UserRef } from "@vdb/schemas/auth";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { addUser } from "./add-user";
import { createUser } from "./create-user";
import { listUsers } from "./list-users";
import { issueTemporaryPassword, removeUser, setOperator } from "./manage-user";

/** The platform's console users (operators): the Users screen. */
export const usersRouter = {
  list: procedure.input(ListUsersInput).query(({ ctx, input }) => listUsers({ ctx: verbCtx(ctx), input })),
  create: procedure
    .input(CreateUserInput)
    .mutation(({ ctx, input }) => createUser({ ctx: verbCtx(ctx), input })),
  add: procedure.input(AddUserInput).mutation(({ ctx, input }) => addUser({ ctx: verbCtx(ctx), input })),
  resetPassword: procedure
    .input(UserRef)
    .mutation(({ ctx, input }) => issueTemporaryPassword({ ctx: verbCtx(ctx), input })),
  setOperator: procedure
    .input(SetOperatorInput)
    .mutation(({ ctx, input }) => setOperator({ ctx: verbCtx(ctx), input })),
  remove: procedure.input(UserRef).mutation(({ ctx, input }) => removeUser({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
