import type { TRPCRouterRecord } from "@trpc/server";
import { Ok } from "@vdb/schemas/answers";
import { ChangePasswordInput, LoginInput, PasswordChanged, Principal, Session } from "@vdb/schemas/auth";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { changePassword } from "./change-password";
import { getMe } from "./get-me";
import { login } from "./login";
import { logout } from "./logout";

export const authRouter = {
  login: procedure
    .input(LoginInput)
    .output(Session)
    .mutation(({ ctx, input }) => login({ ctx: verbCtx(ctx), input })),
  logout: procedure
    .output(Ok)
    .mutation(({ ctx }) => logout({ ctx: verbCtx(ctx), input: { token: ctx.credential ?? "" } })),
  me: procedure.output(Principal).query(({ ctx }) => getMe({ ctx: verbCtx(ctx) })),
  changePassword: procedure
    .input(ChangePasswordInput)
    .output(PasswordChanged)
    .mutation(({ ctx, input }) =>
      changePassword({ ctx: verbCtx(ctx), input: { ...input, sessionToken: ctx.credential ?? "" } }),
    ),
} satisfies TRPCRouterRecord;
