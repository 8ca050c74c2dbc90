import { fileURLToPath } from "node:url";
import { build } from "vite";

export const WIDGET_DIR = fileURLToPath(new URL("..", import.meta.url));

/** vitest globalSetup: builds the loader and the core into dist/, as `pnpm build` does. */
export default async function setup(): Promise<void> {
  const configFile = fileURLToPath(new URL("../vite.config.ts", import.meta.url));
  for (const mode of ["loader", "core"]) {
    await build({ configFile, mode, logLevel: "warn" });
  }
}
