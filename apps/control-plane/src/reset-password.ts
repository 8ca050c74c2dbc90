import { randomBytes } from "node:crypto";
import { loadConfig } from "./config";
import { openStore } from "./lib/db/client";
import { resetPassword } from "./users/reset-password";

/**
 * `npm run reset-password -- <email>`: gives a console user (an operator who lost the password,
 * say) a new password, printed once, and ends their sessions. Reads the same configuration as the
 * control plane (DATA_DIR, DATABASE_URL). `VDB_NEW_PASSWORD` chooses the password instead of a
 * generated one. On the embedded store (PGlite) the platform must be stopped first: one process
 * holds its files.
 */
async function main(args: string[]) {
  const email = args.find((arg) => !arg.startsWith("-"));
  if (!email) throw new Error("Usage: npm run reset-password -- <email>");
  const chosen = process.env.VDB_NEW_PASSWORD;
  const password = chosen ?? randomBytes(12).toString("base64url");
  const config = loadConfig();
  const store = await openStore({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    pgliteSharedBuffers: config.PGLITE_SHARED_BUFFERS,
  });
  try {
    const { endedSessions } = await resetPassword({
      db: store.db,
      passwordHashCost: config.PASSWORD_HASH_COST,
      input: { email, password },
    });
    process.stdout.write(
      [
        `Password of ${email} reset; ${endedSessions} session(s) ended.`,
        chosen ? "  New password: from VDB_NEW_PASSWORD" : `  New password: ${password}   (shown once)`,
        "",
      ].join("\n"),
    );
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`Password reset failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
