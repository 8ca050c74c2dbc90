import { type Command, TENANT_OPTION } from "../command";
import { singleArgument, stringValue } from "../option-values";

export const keysRevoke: Command = {
  path: ["keys", "revoke"],
  usage: "<key id> --tenant <slug|id>",
  summary: "Revoke an API key: it stops working at once",
  options: { tenant: TENANT_OPTION },
  maxArguments: 1,
  prefers: "sessionToken",
  async run({ args, values, session }) {
    const keyId = singleArgument(args, "<key id>");
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    const key = await session.client.keys.revoke.mutate({ tenantId: tenant.id, keyId });
    session.print(key, () => `Revoked key ${key.id} "${key.name}" of ${tenant.label}.`);
    return 0;
  },
};
