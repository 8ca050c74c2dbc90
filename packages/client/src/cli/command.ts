import type { CliEnvironment, Session } from "./session";

/** One `--flag` of a command, as `node:util` `parseArgs` takes it, plus what help shows. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** The value's placeholder in help, e.g. `<slug|id>`. */
  value?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

/** What a command's `run` gets: its positional arguments, its flags and the connection. */
export interface CommandInput {
  args: string[];
  values: OptionValues;
  session: Session;
  env: CliEnvironment;
}

export interface Command {
  /** The words that name it: `["tenants", "create"]`, `["search"]`. */
  path: readonly string[];
  /** What follows the path in the usage line, e.g. `<slug> --name <name> [--plan <plan>]`. */
  usage: string;
  summary: string;
  /** Longer help text, shown under the usage line. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** How many positional arguments it takes at most (default 0); more is a usage error. */
  maxArguments?: number;
  examples?: string[];
  /**
   * Which credential to use when both `VDB_API_KEY` and `VDB_SESSION_TOKEN` are set: operator
   * work (tenants, keys, instances) prefers the session token, data work the API key.
   */
  prefers: "sessionToken" | "apiKey";
  /** Resolves to the exit code (0 when omitted). */
  run(input: CommandInput): Promise<number | undefined>;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  url: {
    type: "string",
    value: "<url>",
    description: "Control plane URL (env VDB_URL; default http://127.0.0.1:8787)",
  },
  "api-key": { type: "string", value: "<key>", description: "Tenant API key, vdbk_… (env VDB_API_KEY)" },
  token: {
    type: "string",
    value: "<token>",
    description: "Session token, vdbs_…, for operator commands (env VDB_SESSION_TOKEN)",
  },
  json: { type: "boolean", description: "Print the result as JSON on stdout" },
  help: { type: "boolean", short: "h", description: "Show help" },
};

/** `vdb tenants create <slug> [options]` plus description, options and examples. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: vdb ${command.path.join(" ")} ${command.usage}`.trimEnd(), "", command.summary];
  if (command.description) lines.push("", command.description);
  if (Object.keys(command.options).length > 0) lines.push("", "Options:", ...optionLines(command.options));
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  if (command.examples?.length)
    lines.push("", "Examples:", ...command.examples.map((example) => `  ${example}`));
  return `${lines.join("\n")}\n`;
}

/** The list of commands under `prefix` (all of them for `[]`), with their summaries. */
export function commandListHelp(commands: readonly Command[], prefix: readonly string[]): string {
  const matching = commands.filter((command) => prefix.every((word, index) => command.path[index] === word));
  const names = matching.map((command) => command.path.join(" "));
  const width = Math.max(...names.map((name) => name.length));
  const lines = [
    `Usage: vdb ${prefix.length > 0 ? `${prefix.join(" ")} ` : ""}<command> [options]`,
    "",
    prefix.length === 0 ? "Command line for the VDB control plane." : `Commands under "${prefix.join(" ")}".`,
    "",
    "Commands:",
    ...matching.map((command, index) => `  ${names[index]!.padEnd(width)}  ${command.summary}`),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    `Run "vdb <command> --help" for a command's options.`,
  ];
  return `${lines.join("\n")}\n`;
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const flags = Object.entries(options).map(
    ([name, spec]) =>
      `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.value ? ` ${spec.value}` : ""}`,
  );
  const width = Math.max(...flags.map((flag) => flag.length));
  return Object.values(options).map((spec, index) => `  ${flags[index]!.padEnd(width)}  ${spec.description}`);
}

/** `--tenant`, shared by every command that acts on one tenant. */
export const TENANT_OPTION: OptionSpec = {
  type: "string",
  short: "t",
  value: "<slug|id>",
  description: "The tenant, by slug or id (with an API key: defaults to the key's own)",
};
