import { defineConfig } from "tsup";

// A deployable bundle (used by the Dockerfile): workspace packages are inlined because they
// export TypeScript source; npm dependencies stay external and come from node_modules.
export default defineConfig({
  entry: ["src/main.ts"],
  format: ["esm"],
  target: "node20",
  platform: "node",
  noExternal: [/^@vdb\//],
  clean: true,
  sourcemap: true,
});
