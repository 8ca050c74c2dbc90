/**
 * How an application uses the published client. Type-checked against `@vdb/client`'s built
 * declarations (dist/index.d.ts), exactly as an outside consumer would see them.
 */
import { createVdbClient, isVdbError, type VdbClient, type VdbInputs, type VdbOutputs } from "@vdb/client";

type Tenant = VdbOutputs["tenants"]["get"];

/** An operator's set-up: a tenant and a read-only key for its application. */
export async function provisionReader(
  url: string,
  sessionToken: string,
  input: VdbInputs["tenants"]["create"],
): Promise<{ tenant: Tenant; secret: string }> {
  const admin = createVdbClient({ url, sessionToken });
  const tenant = await admin.tenants.create.mutate(input);
  const key = await admin.keys.create.mutate({ tenantId: tenant.id, name: "reader", scopes: ["read"] });
  return { tenant, secret: key.secret };
}

/** An application's call with its API key; `null` when the tenant is gone. */
export async function findTenant(vdb: VdbClient, tenantId: string): Promise<Tenant | null> {
  try {
    return await vdb.tenants.get.query({ tenantId });
  } catch (err) {
    if (isVdbError(err) && err.data.appCode === "NOT_FOUND") return null;
    throw err;
  }
}

export function readerClient(url: string, apiKey: string): VdbClient {
  return createVdbClient({ url, apiKey }, { headers: { "user-agent": "vdb-consumer-example" } });
}
