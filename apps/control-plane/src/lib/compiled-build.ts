import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isBuildCurrent } from "@vdb/instance/entry";

/*
 * The control plane's compiled build (`node build.mjs`: dist/main.mjs and the entries of the
 * processes it starts), for code that runs from the sources and starts processes of its own: a
 * process started from the build costs a fraction of the CPU of one through tsx (measured: a
 * control plane ~7 s less, a parse worker ~1.3 s less).
 */

/** apps/control-plane. */
const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CONTROL_PLANE_DIST = path.join(APP_DIR, "dist");

/** What the build bundles: this app's sources and the workspace sources it imports. */
const BUILD_SOURCES = [
  "src",
  "../instance/src",
  "../../packages/embeddings/src",
  "../../packages/http/src",
  "../../packages/schemas/src",
].map((dir) => path.resolve(APP_DIR, dir));

/**
 * From the sources: `dist/<name>.mjs` when the build is current (at least as new as every source
 * file it is made of), else null: the caller runs the source through tsx.
 */
export function currentBuildOf(name: string): string | null {
  // In the build itself, this file's place is dist/, not src/lib: nothing to choose.
  if (!import.meta.url.endsWith(".ts")) return null;
  const file = path.join(CONTROL_PLANE_DIST, `${name}.mjs`);
  return existsSync(file) && isBuildCurrent(CONTROL_PLANE_DIST, BUILD_SOURCES) ? file : null;
}
