import type { PasswordChanged } from "@vdb/schemas/auth";
import type { Command } from "../command";
import { UsageError } from "../errors";

export const password: Command = {
  path: ["password"],
  usage: "",
  summary: "Change your console password (session token); your other sessions end",
  description: [
    "Reads the current and the new password from VDB_CURRENT_PASSWORD and VDB_NEW_PASSWORD, never",
    "from the command line, where `ps` and the shell history would keep them. For example:",
    "  read -rsp 'Current: ' VDB_CURRENT_PASSWORD; echo; read -rsp 'New: ' VDB_NEW_PASSWORD; echo",
    "  export VDB_CURRENT_PASSWORD VDB_NEW_PASSWORD; vdb password; unset VDB_CURRENT_PASSWORD VDB_NEW_PASSWORD",
    "An operator who lost the password resets it on the server: npm run reset-password -- <email>.",
  ].join("\n"),
  options: {},
  examples: ["VDB_SESSION_TOKEN=vdbs_… vdb password"],
  prefers: "sessionToken",
  async run({ session, env }) {
    if (session.requireCredential().kind !== "sessionToken") {
      throw new UsageError(
        "a password belongs to a console user: pass --token <session token> (or VDB_SESSION_TOKEN)",
      );
    }
    const currentPassword = env.VDB_CURRENT_PASSWORD;
    const newPassword = env.VDB_NEW_PASSWORD;
    if (!currentPassword || !newPassword) {
      throw new UsageError("set VDB_CURRENT_PASSWORD and VDB_NEW_PASSWORD (see vdb password --help)");
    }
    const changed = await session.rest<PasswordChanged>("POST", "/auth/password", {
      body: { currentPassword, newPassword },
    });
    session.print(
      changed,
      () => `Password changed. ${changed.endedSessions} other session(s) were logged out; this one stays.`,
    );
    return 0;
  },
};
