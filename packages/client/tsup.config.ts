import { defineConfig } from "tsup";

/**
 * The declarations `tsgo -p tsconfig.dts.json` wrote (the build's first step: TypeScript 7 took
 * ~6 s where tsup's own declaration pass, TypeScript 5.9 over the same sources, took ~15 s).
 */
const DTS = ".dts";

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
  // are inlined (their names mapped to their written declarations, as tsconfig.dts.json maps them
  // to their sources), so no consumer ever resolves the control plane or its server-only
  // dependencies.
  dts: {
    entry: { index: `${DTS}/packages/client/src/index.d.ts` },
    compilerOptions: {
      composite: false,
      paths: {
        "@vdb/control-plane/router": [`${DTS}/apps/control-plane/src/trpc/router.d.ts`],
        "@vdb/schemas/*": [`${DTS}/packages/schemas/src/*.d.ts`],
      },
    },
  },
});
