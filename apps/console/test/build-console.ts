import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

export const CONSOLE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * vitest globalSetup: builds the console once per run so the end-to-end test serves exactly the
 * current source, also from a fresh clone (`turbo run test` needs no separate build step).
 */
export default async function buildConsole(): Promise<void> {
  // Vitest sets NODE_ENV=test, which would give React's development build and JSX transform;
  // build exactly what production serves, then put the test environment back.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({
      root: CONSOLE_ROOT,
      configFile: path.join(CONSOLE_ROOT, "vite.config.ts"),
      mode: "production",
      logLevel: "warn",
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
