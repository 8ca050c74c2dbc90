import type { TRPCRouterRecord } from "@trpc/server";
import { ChangePasswordInput, LoginInput } from "@vdb/schemas/auth";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { changePassword } from "./change-password";
import { getMe } from "./get-me";
import { login } from "./login";
import { logout } from "./logout";

export const authRouter = {
  login: procedure.input(LoginInput).mutation(({ ctx, input }) => login({ ctx: verbCtx(ctx), input })),
  logout: procedure.mutation(({ ctx }) =>
    logout({ ctx: verbCtx(ctx), input: { token: ctx.credential ?? "" } }),
  ),
  me: procedure.query(({ ctx }) => getMe({ ctx: verbCtx(ctx) })),
  changePassword: procedure
    .input(ChangePasswordInput)
    .mutation(({ ctx, input }) =>
      changePassword({ ctx: verbCtx(ctx), input: { ...input, sessionToken: ctx.credential ?? "" } }),
    ),
} satisfies TRPCRouterRecord;
