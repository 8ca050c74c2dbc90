import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

export const CONSOLE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WIDGET_ROOT = path.resolve(CONSOLE_ROOT, "../widget");
/**
 * The chat widget the console's live preview loads, built here for this run: apps/widget's own
 * dist/ may not exist yet in a fresh clone, or be rebuilt meanwhile by the widget's tests.
 */
export const WIDGET_DIST_FOR_TESTS = path.join(CONSOLE_ROOT, "dist", "widget-for-tests");

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
    // After the console: its build empties dist/. The widget's two bundles, as `pnpm build` makes them.
    for (const mode of ["loader", "core"]) {
      await build({
        configFile: path.join(WIDGET_ROOT, "vite.config.ts"),
        mode,
        logLevel: "warn",
        build: { outDir: WIDGET_DIST_FOR_TESTS },
      });
    }
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
