import { Scope } from "@vdb/schemas/auth";
import { type Command, TENANT_OPTION } from "../command";
import { UsageError } from "../errors";
import { stringValue } from "../option-values";

export const keysCreate: Command = {
  path: ["keys", "create"],
  usage: "--tenant <slug|id> --scopes <scopes> [--name <name>] [--expires <when>]",
  summary: "Create an API key for a tenant; prints its secret once",
  description:
    "The secret alone goes to stdout (so KEY=$(vdb keys create …) works); the details go to stderr.\nIt is shown this once: the server keeps only a hash.",
  options: {
    tenant: TENANT_OPTION,
    scopes: {
      type: "string",
      value: "<scopes>",
      description: `Comma-separated: ${Scope.options.join(", ")}`,
    },
    name: { type: "string", value: "<name>", description: 'What the key is for (default: "vdb-cli")' },
    expires: {
      type: "string",
      value: "<when>",
      description: "Expiry: a date or time (2030-01-31, 2030-01-31T12:00:00Z) or a duration (90d, 12h)",
    },
  },
  examples: ["vdb keys create --tenant acme --scopes read,write --name ingest --expires 90d"],
  prefers: "sessionToken",
  async run({ values, session }) {
    const scopes = parseScopes(stringValue(values, "scopes"));
    const expires = stringValue(values, "expires");
    const expiresAt = expires === undefined ? undefined : parseExpiry(expires);
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    const key = await session.client.keys.create.mutate({
      tenantId: tenant.id,
      name: stringValue(values, "name") ?? "vdb-cli",
      scopes,
      ...(expiresAt ? { expiresAt } : {}),
    });
    if (!session.json) {
      session.note(
        `Created key ${key.id} "${key.name}" (${key.scopes.join(", ")}) for ${tenant.label}, ${
          key.expiresAt ? `expiring ${key.expiresAt}` : "never expiring"
        }.\nThe secret below is shown only now; store it somewhere safe.`,
      );
    }
    session.print(key, () => key.secret);
    return 0;
  },
};

function parseScopes(raw: string | undefined): Scope[] {
  if (!raw)
    throw new UsageError(`--scopes is required, e.g. --scopes read,write (${Scope.options.join(", ")})`);
  const scopes = raw
    .split(",")
    .map((scope) => scope.trim())
    .filter(Boolean);
  for (const scope of scopes) {
    if (!Scope.safeParse(scope).success) {
      throw new UsageError(`unknown scope "${scope}"; use ${Scope.options.join(", ")}`);
    }
  }
  return scopes as Scope[];
}

const DURATION_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `90d` → now + 90 days; otherwise anything `Date` reads, as an ISO timestamp. */
export function parseExpiry(raw: string, now = Date.now()): string {
  const duration = /^(\d+)\s*([mhdw])$/.exec(raw.trim());
  if (duration) {
    return new Date(
      now + Number(duration[1]) * DURATION_MS[duration[2] as keyof typeof DURATION_MS],
    ).toISOString();
  }
  const time = Date.parse(raw);
  if (Number.isNaN(time)) {
    throw new UsageError(
      `--expires must be a date (2030-01-31), a timestamp or a duration (90d), got "${raw}"`,
    );
  }
  return new Date(time).toISOString();
}
