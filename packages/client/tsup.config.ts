import { readFileSync, realpathSync } from "node:fs";
import { join, relative } from "node:path";
import { defineConfig } from "tsup";

/**
 * TypeScript `paths` pointing each export of the given workspace packages at its real source file,
 * read from the package's own `exports`. Resolved this way (not through node_modules) the
 * declaration bundler inlines their types instead of leaving `import "@vdb/..."` in dist.
 */
function workspaceSourcePaths(packageNames: string[]): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  for (const name of packageNames) {
    const dir = realpathSync(join(import.meta.dirname, "node_modules", name));
    const { exports } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      exports: Record<string, string>;
    };
    for (const [subpath, target] of Object.entries(exports)) {
      paths[join(name, subpath)] = [relative(import.meta.dirname, join(dir, target))];
    }
  }
  return paths;
}

export default defineConfig({
  // The library, and the `vdb` command line (the package's bin; its hashbang comes from main.ts).
  entry: { index: "src/index.ts", cli: "src/cli/main.ts" },
  // Each entry self-contained: index.js stays exactly the library, with no shared chunk.
  splitting: false,
  format: ["esm"],
  target: "node20",
  clean: true,
  sourcemap: true,
  // The published declarations may reference only @trpc/* and zod: the router and schema types
  // are inlined, so no consumer ever resolves the control plane or its server-only dependencies.
  dts: {
    entry: { index: "src/index.ts" },
    // Not as a TypeScript project (tsconfig.json is one, for `tsc -b`): the bundler reads every source itself.
    compilerOptions: {
      composite: false,
      paths: workspaceSourcePaths(["@vdb/control-plane", "@vdb/schemas"]),
    },
  },
});
