// Deliberately wrong: `tenants.get` is a query, so it has no `.mutate`. `src/client.test.ts` asserts tsc rejects this file.
import { createVdbClient } from "@vdb/client";

const reader = createVdbClient({ url: "http://localhost:8080", apiKey: "vdbk_example" });
await reader.tenants.get.mutate({ tenantId: "ten_example" });
