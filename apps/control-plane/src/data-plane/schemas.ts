import { TenantId } from "@vdb/schemas/ids";
import { SearchRequest } from "@vdb/schemas/instances";
import { z } from "zod";

/** A search from the console: the tenant it runs in, and the data plane's own request body. */
export const SearchTenantInput = z.strictObject({ tenantId: TenantId, request: SearchRequest });
export type SearchTenantInput = z.input<typeof SearchTenantInput>;
