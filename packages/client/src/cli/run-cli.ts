import { type ParseArgsConfig, parseArgs } from "node:util";
import packageJson from "../../package.json" with { type: "json" };
import {
  type Command,
  commandHelp,
  commandListHelp,
  GLOBAL_OPTIONS,
  type OptionSpec,
  type OptionValues,
} from "./command";
import { backupsCreate, backupsList, backupsRestore } from "./commands/backups";
import { chat } from "./commands/chat";
import { ingest } from "./commands/ingest";
import { instancesGet } from "./commands/instances-get";
import { instancesLaunch } from "./commands/instances-launch";
import { keysCreate } from "./commands/keys-create";
import { keysList } from "./commands/keys-list";
import { keysRevoke } from "./commands/keys-revoke";
import { password } from "./commands/password";
import { search } from "./commands/search";
import { tenantsCreate } from "./commands/tenants-create";
import { tenantsList } from "./commands/tenants-list";
import { describeError, exitCodeOf, UsageError } from "./errors";
import { type CliEnvironment, Session, type Streams } from "./session";

export const COMMANDS: readonly Command[] = [
  tenantsCreate,
  tenantsList,
  keysCreate,
  keysList,
  keysRevoke,
  instancesLaunch,
  instancesGet,
  ingest,
  search,
  chat,
  backupsCreate,
  backupsList,
  backupsRestore,
  password,
];

/**
 * Runs one `vdb …` invocation and resolves to its exit code: 0 on success, 1 when the command
 * failed (the server said no, a file did not ingest), 2 for a mistake in the command line.
 */
export async function runCli(argv: string[], env: CliEnvironment, streams: Streams): Promise<number> {
  const fail = (error: unknown, command: Command | null, url?: string) => {
    const hint =
      error instanceof UsageError
        ? `\nRun "vdb ${command ? `${command.path.join(" ")} ` : ""}--help" for usage.`
        : "";
    streams.stderr.write(`error: ${describeError(error, url)}${hint}\n`);
    return exitCodeOf(error);
  };

  // First pass, lenient, to find the command: its words are the first positionals. Global options
  // may come anywhere; a command's own options after its words (before, their values would look
  // like command words).
  const { positionals, values: early } = parseArgs({
    args: argv,
    options: { ...toParseArgsOptions(GLOBAL_OPTIONS), version: { type: "boolean" } },
    strict: false,
    allowPositionals: true,
  });
  const words = positionals[0] === "help" ? positionals.slice(1) : positionals;
  const wantsHelp = early.help === true || positionals[0] === "help";
  if (words.length === 0) {
    if (early.version === true) {
      streams.stdout.write(`${packageJson.version}\n`);
      return 0;
    }
    streams.stdout.write(commandListHelp(COMMANDS, []));
    return 0;
  }
  const command = findCommand(words);
  if (!command) {
    const group = COMMANDS.some((candidate) => candidate.path[0] === words[0]) ? [words[0]!] : null;
    if (group && (words.length === 1 || wantsHelp)) {
      streams[wantsHelp ? "stdout" : "stderr"].write(commandListHelp(COMMANDS, group));
      return wantsHelp ? 0 : 2;
    }
    return fail(new UsageError(`unknown command "${words.slice(0, group ? 2 : 1).join(" ")}"`), null);
  }
  if (wantsHelp) {
    streams.stdout.write(commandHelp(command));
    return 0;
  }

  let session: Session | null = null;
  try {
    const parsed = parseStrict(command, argv);
    const args = parsed.positionals.slice(command.path.length);
    if (args.length > (command.maxArguments ?? 0)) {
      throw new UsageError(`unexpected argument "${args[command.maxArguments ?? 0]}"`);
    }
    // No option is declared `multiple`, so every value is a string or a boolean.
    const values = parsed.values as OptionValues;
    session = new Session(
      {
        url: values.url as string | undefined,
        apiKey: values["api-key"] as string | undefined,
        token: values.token as string | undefined,
        json: values.json === true,
      },
      env,
      command.prefers,
      streams,
    );
    return (await command.run({ args, values, session, env })) ?? 0;
  } catch (error) {
    return fail(error, command, session?.url);
  }
}

/** The command named by the first words: `search`, or `tenants create`. */
function findCommand(words: string[]): Command | null {
  return COMMANDS.find((command) => command.path.every((word, index) => words[index] === word)) ?? null;
}

function parseStrict(command: Command, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: toParseArgsOptions({ ...GLOBAL_OPTIONS, ...command.options }),
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    // Keep node:util's diagnosis; drop its advice on `--` and `--flag=-x`, which rarely applies.
    const sentences = (error as Error).message.split(/(?<=[.?])\s+/);
    throw new UsageError(sentences.filter((sentence) => !sentence.startsWith("To specify")).join(" "));
  }
}

function toParseArgsOptions(options: Record<string, OptionSpec>): NonNullable<ParseArgsConfig["options"]> {
  return Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.short ? { short: spec.short } : {}) },
    ]),
  );
}
