import { Plan } from "@vdb/schemas/plans";
import type { Command } from "../command";
import { UsageError } from "../errors";
import { singleArgument, stringValue } from "../option-values";

export const tenantsCreate: Command = {
  path: ["tenants", "create"],
  usage: "<slug> [--name <name>] [--plan <plan>]",
  summary: "Create a tenant (operators only)",
  options: {
    name: { type: "string", value: "<name>", description: "Display name (default: the slug)" },
    plan: { type: "string", value: "<plan>", description: `${Plan.options.join(", ")} (default: starter)` },
  },
  maxArguments: 1,
  examples: ['vdb tenants create acme --name "Acme Inc." --plan pro'],
  prefers: "sessionToken",
  async run({ args, values, session }) {
    const slug = singleArgument(args, "<slug>");
    const plan = stringValue(values, "plan");
    if (plan !== undefined && !Plan.safeParse(plan).success) {
      throw new UsageError(`--plan must be one of ${Plan.options.join(", ")}, got "${plan}"`);
    }
    const tenant = await session.client.tenants.create.mutate({
      slug,
      name: stringValue(values, "name") ?? slug,
      ...(plan ? { plan: plan as Plan } : {}),
    });
    session.print(tenant, () => `Created tenant ${tenant.slug} (${tenant.id}) on the ${tenant.plan} plan.`);
    return 0;
  },
};
