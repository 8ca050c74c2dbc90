import type { TRPCRouterRecord } from "@trpc/server";
import { ApiKeyRef, CreateApiKeyInput, ListApiKeysInput } from "@vdb/schemas/keys";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { createApiKey } from "./create-api-key";
import { listApiKeys } from "./list-api-keys";
import { revokeApiKey } from "./revoke-api-key";

export const keysRouter = {
  create: procedure
    .input(CreateApiKeyInput)
    .mutation(({ ctx, input }) => createApiKey({ ctx: verbCtx(ctx), input })),
  list: procedure
    .input(ListApiKeysInput)
    .query(({ ctx, input }) => listApiKeys({ ctx: verbCtx(ctx), input })),
  revoke: procedure.input(ApiKeyRef).mutation(({ ctx, input }) => revokeApiKey({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
