// Deliberately wrong: "gold" is not a plan. `src/client.test.ts` asserts tsc rejects this file.
import { createVdbClient } from "@vdb/client";

const admin = createVdbClient({ url: "http://localhost:8080", sessionToken: "vdbs_example" });
await admin.tenants.create.mutate({ slug: "acme", name: "Acme", plan: "gold" });
