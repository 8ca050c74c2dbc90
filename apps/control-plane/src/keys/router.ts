import type { TRPCRouterRecord } from "@trpc/server";
import { ApiKey, ApiKeyRef, CreateApiKeyInput, CreatedApiKey, ListApiKeysInput } from "@vdb/schemas/keys";
import { pageOf } from "@vdb/schemas/pagination";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { createApiKey } from "./create-api-key";
import { listApiKeys } from "./list-api-keys";
import { revokeApiKey } from "./revoke-api-key";

export const keysRouter = {
  create: procedure
    .input(CreateApiKeyInput)
    .output(CreatedApiKey)
    .mutation(({ ctx, input }) => createApiKey({ ctx: verbCtx(ctx), input })),
  list: procedure
    .input(ListApiKeysInput)
    .output(pageOf(ApiKey))
    .query(({ ctx, input }) => listApiKeys({ ctx: verbCtx(ctx), input })),
  revoke: procedure
    .input(ApiKeyRef)
    .output(ApiKey)
    .mutation(({ ctx, input }) => revokeApiKey({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
