import { describe, expect, it } from "vitest";
import { COMMANDS, runCli } from "./run-cli";

/** Runs `vdb` in-process with captured output: for what needs no server (usage, help). */
async function run(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, env, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

// Nothing listens here: a case that reached the network would fail with "cannot reach", not 2.
const env = { VDB_URL: "http://127.0.0.1:9", VDB_API_KEY: "vdbk_x" };

describe("command-line mistakes", () => {
  it.each<[string[], RegExp]>([
    [["frobnicate"], /^error: unknown command "frobnicate"\nRun "vdb --help" for usage\.\n$/],
    [["tenants", "delete", "x"], /^error: unknown command "tenants delete"\n/],
    [
      ["tenants", "list", "--bogus"],
      /^error: Unknown option '--bogus'\.\nRun "vdb tenants list --help" for usage\.\n$/,
    ],
    [["tenants", "list", "extra"], /^error: unexpected argument "extra"\n/],
    [
      ["tenants", "create", "acme", "--plan", "gold"],
      /^error: --plan must be one of free, starter, pro, enterprise, got "gold"\n/,
    ],
    [["keys", "create", "--tenant", "t"], /^error: --scopes is required/],
    [
      ["keys", "create", "--tenant", "t", "--scopes", "read,sudo"],
      /^error: unknown scope "sudo"; use read, write, admin\n/,
    ],
    [
      ["keys", "create", "--tenant", "t", "--scopes", "read", "--expires", "someday"],
      /^error: --expires must be/,
    ],
    [["search", "q", "--where", "[1]"], /^error: --where must be a JSON object/],
    [["search", "q", "-n", "zero"], /^error: --results must be a whole number from 1 to 1000, got "zero"\n/],
    [
      ["search", "q", "--mode", "sparse"],
      /^error: --mode must be one of vector, keyword, hybrid, got "sparse"\n/,
    ],
    [["search", "two", "words"], /^error: unexpected argument "words"\n/],
    [["search"], /^error: missing "<query>"\n/],
    [
      ["ingest", ".", "--chunk-size", "10"],
      /^error: --chunk-size must be a whole number from 50 to 2000, got "10"\n/,
    ],
    [
      ["instances", "launch", "--timeout", "0"],
      /^error: --timeout must be a whole number from 1 to 86400, got "0"\n/,
    ],
    [
      ["instances", "launch", "--timeout", "-5"],
      /^error: Option '--timeout' argument is ambiguous\. Did you forget/,
    ],
    [["search", "q", "--url", "ftp://x"], /^error: --url must start with http:\/\/ or https:\/\//],
    [
      ["tenants", "list", "--api-key", "k", "--token", "t"],
      /^error: give either --api-key or --token, not both\n/,
    ],
  ])("vdb %j exits 2 before any request", async (args, expected) => {
    const result = await run(args, env);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toMatch(expected);
  });

  it("without any credential, says how to give one", async () => {
    const result = await run(["tenants", "list"], { VDB_URL: env.VDB_URL });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^error: no credential: pass --api-key <key> or --token <session token>, or set VDB_API_KEY or VDB_SESSION_TOKEN\n/,
    );
  });
});

describe("help", () => {
  it("vdb, vdb help and vdb --help list every command with the global options", async () => {
    for (const args of [[], ["help"], ["--help"], ["-h"]]) {
      const result = await run(args);
      expect(result).toMatchObject({ code: 0, stderr: "" });
      for (const command of COMMANDS) {
        expect(result.stdout).toMatch(
          new RegExp(`^ {2}${command.path.join(" ")} +${command.summary.replace(/[()]/g, "\\$&")}$`, "m"),
        );
      }
      expect(result.stdout).toMatch(
        /--url <url> +Control plane URL \(env VDB_URL; default http:\/\/127\.0\.0\.1:8787\)/,
      );
      expect(result.stdout).toMatch(/--token <token> +Session token/);
    }
  });

  it.each(COMMANDS.map((command) => [command.path.join(" "), command] as const))(
    "vdb %s --help shows its usage, options and the global ones",
    async (_name, command) => {
      for (const args of [
        [...command.path, "--help"],
        ["help", ...command.path],
      ]) {
        const result = await run(args);
        expect(result).toMatchObject({ code: 0, stderr: "" });
        expect(result.stdout.split("\n")[0]).toBe(
          `Usage: vdb ${command.path.join(" ")} ${command.usage}`.trimEnd(),
        );
        for (const [name, spec] of Object.entries(command.options)) {
          expect(result.stdout).toMatch(
            new RegExp(`--${name}${spec.value ? ` ${spec.value.replace(/[|]/g, "\\|")}` : ""} +\\S`),
          );
        }
        expect(result.stdout).toContain("--api-key <key>");
        expect(result.stdout).toContain("--json");
      }
    },
  );

  it("a group name alone lists its commands; with --help on stdout and exit 0", async () => {
    const bare = await run(["keys"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^ {2}keys create +Create an API key/m);
    const help = await run(["keys", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}keys revoke +Revoke an API key/m);
    expect(help.stdout).not.toContain("tenants create");
  });

  it("--version prints the package's version", async () => {
    const result = await run(["--version"]);
    expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/), stderr: "" });
  });
});
