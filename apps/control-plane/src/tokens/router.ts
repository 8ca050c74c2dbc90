import type { TRPCRouterRecord } from "@trpc/server";
import { GenerateTokenInput, RetireSigningKeyInput } from "@vdb/schemas/tokens";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { generateToken } from "./generate-token";
import { listSigningKeys, retireSigningKey, rotateSigningKey } from "./manage-signing-keys";

export const tokensRouter = {
  generate: procedure
    .input(GenerateTokenInput)
    .mutation(({ ctx, input }) => generateToken({ ctx: verbCtx(ctx), input })),
  signingKeys: procedure.query(({ ctx }) => listSigningKeys({ ctx: verbCtx(ctx) })),
  rotateSigningKey: procedure.mutation(({ ctx }) => rotateSigningKey({ ctx: verbCtx(ctx) })),
  retireSigningKey: procedure
    .input(RetireSigningKeyInput)
    .mutation(({ ctx, input }) => retireSigningKey({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
