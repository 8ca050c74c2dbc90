import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * apps/instance, found through the package (not this file's place: the control plane's build
 * bundles this file into apps/control-plane/dist).
 */
const INSTANCE_DIR = path.dirname(
  realpathSync(createRequire(import.meta.url).resolve("@vdb/instance/package.json")),
);
/** The sources a build is made of: this package's and the workspace packages it bundles. */
const SOURCE_DIRS = [
  "src",
  "../../packages/embeddings/src",
  "../../packages/http/src",
  "../../packages/schemas/src",
];

export interface InstanceEntry {
  /** Arguments to `node` that start an instance. */
  args: string[];
  /** The script in `args`: what a process's command line shows (to recognise ours). */
  script: string;
  isCompiled: boolean;
}

/**
 * How to start an instance process: the compiled build (`dist/main.mjs`, made by
 * `pnpm --filter @vdb/instance build`) when there is one at least as new as every source file it
 * is made of, else the TypeScript through tsx (a fresh clone, or sources edited since the build).
 * The build starts faster and holds less memory (bench/provision/RESULTS.md).
 *
 * @example
 * const entry = instanceEntry();
 * spawn(process.execPath, entry.args, { cwd: INSTANCE_DIR });
 */
export function instanceEntry(distDir = path.join(INSTANCE_DIR, "dist")): InstanceEntry {
  const compiled = path.join(distDir, "main.mjs");
  const sources = SOURCE_DIRS.map((dir) => path.resolve(INSTANCE_DIR, dir));
  if (existsSync(compiled) && isBuildCurrent(distDir, sources)) {
    return { args: [compiled], script: compiled, isCompiled: true };
  }
  return { args: ["--import", "tsx", SOURCE_MAIN], script: SOURCE_MAIN, isCompiled: false };
}

/** `src/main.ts`: the instance from source. */
export const SOURCE_MAIN = path.join(INSTANCE_DIR, "src", "main.ts");

/** Every script an instance process may run (a re-adopted one may predate a build). */
export function instanceScripts(distDir = path.join(INSTANCE_DIR, "dist")): string[] {
  return [SOURCE_MAIN, path.join(distDir, "main.mjs")];
}

export { INSTANCE_DIR };

/**
 * Whether a build is at least as new as every source file under `sourceDirs`: what chooses
 * between a Node service's compiled build and its TypeScript. `built` is a build's directory
 * (its time is its `BUILT` stamp, written by infra/scripts/node-dist.mjs) or one built file (its
 * time is its own: a bundler that empties dist/ first, like tsup's clean).
 */
export function isBuildCurrent(built: string, sourceDirs: string[]): boolean {
  const stamp = existsSync(built) && statSync(built).isDirectory() ? path.join(built, "BUILT") : built;
  if (!existsSync(stamp)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  return sourceDirs.every((dir) => newestMtime(dir) <= builtAt);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    // Tests and their harness (a `testing/` folder) are not in the build: editing one leaves it
    // current.
    if (
      !entry.isFile() ||
      !/\.(ts|mjs|js|json)$/.test(entry.name) ||
      /\.test\.ts$/.test(entry.name) ||
      path.relative(dir, entry.parentPath).split(path.sep).includes("testing")
    )
      continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}
