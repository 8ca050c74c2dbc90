import type { VdbOutputs } from "../../index";
import { type Command, TENANT_OPTION } from "../command";
import { stringValue } from "../option-values";
import { formatTable } from "../table";

export const keysList: Command = {
  path: ["keys", "list"],
  usage: "--tenant <slug|id> [--all]",
  summary: "List a tenant's API keys (never their secrets)",
  options: {
    tenant: TENANT_OPTION,
    all: { type: "boolean", description: "Include revoked keys" },
  },
  prefers: "sessionToken",
  async run({ values, session }) {
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    const keys: VdbOutputs["keys"]["list"]["items"] = [];
    let cursor: string | undefined;
    do {
      const page = await session.client.keys.list.query({
        tenantId: tenant.id,
        limit: 100,
        includeRevoked: values.all === true,
        ...(cursor ? { cursor } : {}),
      });
      keys.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    session.print(keys, () =>
      keys.length === 0
        ? `No API keys for ${tenant.label}.`
        : formatTable(
            ["ID", "NAME", "STARTS", "SCOPES", "EXPIRES", "LAST USED", "STATUS"],
            keys.map((key) => [
              key.id,
              key.name,
              `${key.start}…`,
              key.scopes.join(","),
              key.expiresAt?.slice(0, 10) ?? "never",
              key.lastUsedAt?.slice(0, 16).replace("T", " ") ?? "never",
              key.revokedAt
                ? "revoked"
                : key.expiresAt && Date.parse(key.expiresAt) <= Date.now()
                  ? "expired"
                  : "active",
            ]),
          ),
    );
    return 0;
  },
};
