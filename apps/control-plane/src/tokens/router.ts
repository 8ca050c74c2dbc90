import type { TRPCRouterRecord } from "@trpc/server";
import { GenerateTokenInput, InstanceToken, RetireSigningKeyInput, SigningKey } from "@vdb/schemas/tokens";
import { z } from "zod";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { generateToken } from "./generate-token";
import { listSigningKeys, retireSigningKey, rotateSigningKey } from "./manage-signing-keys";

export const tokensRouter = {
  generate: procedure
    .input(GenerateTokenInput)
    .output(InstanceToken)
    .mutation(({ ctx, input }) => generateToken({ ctx: verbCtx(ctx), input })),
  signingKeys: procedure
    .output(z.array(SigningKey))
    .query(({ ctx }) => listSigningKeys({ ctx: verbCtx(ctx) })),
  rotateSigningKey: procedure
    .output(SigningKey)
    .mutation(({ ctx }) => rotateSigningKey({ ctx: verbCtx(ctx) })),
  retireSigningKey: procedure
    .input(RetireSigningKeyInput)
    .output(SigningKey)
    .mutation(({ ctx, input }) => retireSigningKey({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
