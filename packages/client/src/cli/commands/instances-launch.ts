import type { VdbOutputs } from "../../index";
import { type Command, TENANT_OPTION } from "../command";
import { follow } from "../follow";
import { integerValue, stringValue } from "../option-values";

type Instance = NonNullable<VdbOutputs["instances"]["get"]>;

export const instancesLaunch: Command = {
  path: ["instances", "launch"],
  usage: "--tenant <slug|id> [--model <name>] [--dimension <n>] [--no-wait] [--timeout <seconds>]",
  summary: "Launch a tenant's instance and wait until it runs",
  description:
    "Prints each state the instance goes through (pending, starting, running…) on stderr. A failed\nstart is retried by the platform; the command keeps waiting until --timeout.",
  options: {
    tenant: TENANT_OPTION,
    model: {
      type: "string",
      value: "<name>",
      description: "Embedding model of a new instance (default: the platform's)",
    },
    dimension: { type: "string", value: "<n>", description: "Embedding dimension of a new instance" },
    "no-wait": { type: "boolean", description: "Return once the launch is accepted" },
    timeout: {
      type: "string",
      value: "<seconds>",
      description: "How long to wait for it to run (default: 300)",
    },
  },
  examples: ["vdb instances launch --tenant acme"],
  prefers: "sessionToken",
  async run({ values, session }) {
    const model = stringValue(values, "model");
    const dimension = integerValue(values, "dimension", { min: 1, max: 8_192 });
    const timeoutSeconds = integerValue(values, "timeout", { min: 1, max: 86_400 }) ?? 300;
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    const launched = await session.client.instances.launch.mutate({
      tenantId: tenant.id,
      ...(model ? { model } : {}),
      ...(dimension ? { dimension } : {}),
    });
    if (values["no-wait"] === true) {
      session.print(launched, () => `Launch of ${tenant.label}'s instance accepted (now ${launched.state}).`);
      return 0;
    }
    let shown = "";
    const running = await follow<Instance | null>({
      subscribe: (handlers) => session.live.instances.onStatus.subscribe({ tenantId: tenant.id }, handlers),
      poll: () => session.client.instances.get.query({ tenantId: tenant.id }),
      isDone: (instance) => instance?.state === "running",
      onValue(instance) {
        const line = instance ? describeState(instance) : "no instance yet";
        if (line !== shown) session.note(`${tenant.label}: ${line}`);
        shown = line;
      },
      timeoutMs: timeoutSeconds * 1000,
      describeTimeout: (last) =>
        `the instance is not running after ${timeoutSeconds} s (last state: ${last?.state ?? "none"}${
          last?.lastError ? `; last error: ${last.lastError}` : ""
        })`,
    });
    session.print(
      running,
      () => `${tenant.label}'s instance is running${running?.url ? ` at ${running.url}` : ""}.`,
    );
    return 0;
  },
};

function describeState(instance: Instance): string {
  if (instance.state !== "failed") return instance.state;
  return `failed${instance.lastError ? `: ${instance.lastError}` : ""} (the platform retries)`;
}
