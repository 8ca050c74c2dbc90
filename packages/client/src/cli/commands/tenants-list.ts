import type { VdbOutputs } from "../../index";
import type { Command } from "../command";
import { integerValue, stringValue } from "../option-values";
import { formatTable } from "../table";

type Tenant = VdbOutputs["tenants"]["list"]["items"][number];

export const tenantsList: Command = {
  path: ["tenants", "list"],
  usage: "[--search <text>] [--limit <n>]",
  summary: "List the tenants this credential can see, newest first",
  options: {
    search: { type: "string", value: "<text>", description: "Only tenants whose slug or name contains this" },
    limit: { type: "string", value: "<n>", description: "Show at most this many (default: all)" },
  },
  prefers: "sessionToken",
  async run({ values, session }) {
    const search = stringValue(values, "search");
    const limit = integerValue(values, "limit", { min: 1, max: 1_000_000 }) ?? Number.POSITIVE_INFINITY;
    const tenants: Tenant[] = [];
    let cursor: string | undefined;
    do {
      const page = await session.client.tenants.list.query({
        limit: Math.min(100, limit - tenants.length),
        ...(search ? { search } : {}),
        ...(cursor ? { cursor } : {}),
      });
      tenants.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && tenants.length < limit);
    session.print(tenants, () =>
      tenants.length === 0
        ? "No tenants."
        : formatTable(
            ["SLUG", "NAME", "PLAN", "ID", "CREATED"],
            tenants.map((tenant) => [
              tenant.slug,
              tenant.name,
              tenant.plan,
              tenant.id,
              tenant.createdAt.slice(0, 10),
            ]),
          ),
    );
    return 0;
  },
};
