// Deliberately wrong: a tenant's `plan` is a string union, not a number. `src/client.test.ts` asserts tsc rejects this file.
import { createVdbClient } from "@vdb/client";

const reader = createVdbClient({ url: "http://localhost:8080", apiKey: "vdbk_example" });
const tenant = await reader.tenants.get.query({ tenantId: "ten_example" });
export const plan: number = tenant.plan;
