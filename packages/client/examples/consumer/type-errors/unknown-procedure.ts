// Deliberately wrong: there is no `tenants.destroy` procedure. `src/client.test.ts` asserts tsc rejects this file.
import { createVdbClient } from "@vdb/client";

const admin = createVdbClient({ url: "http://localhost:8080", sessionToken: "vdbs_example" });
await admin.tenants.destroy.mutate({ tenantId: "ten_example" });
