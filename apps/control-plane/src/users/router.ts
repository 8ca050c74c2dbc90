import type { TRPCRouterRecord } from "@trpc/server";
import { Ok } from "@vdb/schemas/answers";
import {
  AddUserInput,
  CreateUserInput,
  ListUsersInput,
  SetOperatorInput,
  User,
  UserListItem,
  UserRef,
  UserWithTemporaryPassword,
} from "@vdb/schemas/auth";
import { pageOf } from "@vdb/schemas/pagination";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { addUser } from "./add-user";
import { createUser } from "./create-user";
import { listUsers } from "./list-users";
import { issueTemporaryPassword, removeUser, setOperator } from "./manage-user";

/** The platform's console users (operators): the Users screen. */
export const usersRouter = {
  list: procedure
    .input(ListUsersInput)
    .output(pageOf(UserListItem))
    .query(({ ctx, input }) => listUsers({ ctx: verbCtx(ctx), input })),
  create: procedure
    .input(CreateUserInput)
    .output(User)
    .mutation(({ ctx, input }) => createUser({ ctx: verbCtx(ctx), input })),
  add: procedure
    .input(AddUserInput)
    .output(UserWithTemporaryPassword)
    .mutation(({ ctx, input }) => addUser({ ctx: verbCtx(ctx), input })),
  resetPassword: procedure
    .input(UserRef)
    .output(UserWithTemporaryPassword)
    .mutation(({ ctx, input }) => issueTemporaryPassword({ ctx: verbCtx(ctx), input })),
  setOperator: procedure
    .input(SetOperatorInput)
    .output(User)
    .mutation(({ ctx, input }) => setOperator({ ctx: verbCtx(ctx), input })),
  remove: procedure
    .input(UserRef)
    .output(Ok)
    .mutation(({ ctx, input }) => removeUser({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
