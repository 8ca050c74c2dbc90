import type { TRPCRouterRecord } from "@trpc/server";
import { Collection, DeleteResponse, GetRecordsResponse, SearchResponse } from "@vdb/schemas/instances";
import { TenantRef } from "@vdb/schemas/tenants";
import { z } from "zod";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { deleteRecords, getRecords } from "./browse-records";
import { listCollections } from "./list-collections";
import { DeleteRecordsInput, GetRecordsInput, SearchTenantInput } from "./schemas";
import { searchTenant } from "./search-tenant";

/** The data plane for console users (API keys use REST `/api/v1/search` or the gateway). */
export const dataPlaneRouter = {
  search: procedure
    .input(SearchTenantInput)
    .output(SearchResponse)
    .query(({ ctx, input }) => searchTenant({ ctx: verbCtx(ctx), input })),
  collections: procedure
    .input(TenantRef)
    .output(z.array(Collection))
    .query(({ ctx, input }) => listCollections({ ctx: verbCtx(ctx), input })),
  records: procedure
    .input(GetRecordsInput)
    .output(GetRecordsResponse)
    .query(({ ctx, input }) => getRecords({ ctx: verbCtx(ctx), input })),
  deleteRecords: procedure
    .input(DeleteRecordsInput)
    .output(DeleteResponse)
    .mutation(({ ctx, input }) => deleteRecords({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
