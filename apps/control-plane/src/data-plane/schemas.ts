import { TenantId } from "@vdb/schemas/ids";
import { DeleteRequest, GetRecordsRequest, SearchRequest } from "@vdb/schemas/instances";
import { z } from "zod";

/** A search from the console: the tenant it runs in, and the data plane's own request body. */
export const SearchTenantInput = z.strictObject({ tenantId: TenantId, request: SearchRequest });
export type SearchTenantInput = z.input<typeof SearchTenantInput>;

/** The console's record browser: a page of a collection's records in the named tenant. */
export const GetRecordsInput = z.strictObject({ tenantId: TenantId, request: GetRecordsRequest });
export type GetRecordsInput = z.input<typeof GetRecordsInput>;

/** The console's record browser deleting records by ids or filter. */
export const DeleteRecordsInput = z.strictObject({ tenantId: TenantId, request: DeleteRequest });
export type DeleteRecordsInput = z.input<typeof DeleteRecordsInput>;
