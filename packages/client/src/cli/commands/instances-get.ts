import { type Command, TENANT_OPTION } from "../command";
import { stringValue } from "../option-values";

export const instancesGet: Command = {
  path: ["instances", "get"],
  usage: "--tenant <slug|id>",
  summary: "Show a tenant's instance: state, URL, model, last error",
  options: { tenant: TENANT_OPTION },
  prefers: "sessionToken",
  async run({ values, session }) {
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    const instance = await session.client.instances.get.query({ tenantId: tenant.id });
    session.print(instance, () => {
      const rows: [string, string][] = [
        ["state", `${instance.state} (wanted: ${instance.desiredState})`],
        ["url", instance.url ?? "-"],
        ["runtime", instance.runtime],
        ["model", `${instance.model} (${instance.dimension} dimensions)`],
        ["since", instance.stateChangedAt],
      ];
      if (instance.lastError) rows.push(["last error", instance.lastError]);
      return rows.map(([name, value]) => `${name.padEnd(10)}  ${value}`).join("\n");
    });
    return 0;
  },
};
