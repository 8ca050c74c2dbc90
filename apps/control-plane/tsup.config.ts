import { defineConfig } from "tsup";

// A deployable bundle (used by the Dockerfile): workspace packages are inlined because they
// export TypeScript source; npm dependencies stay external and come from node_modules.
export default defineConfig({
  // The parse sandbox's processes run dist/parse-worker.js (see documents/parsing/parse-sandbox.ts).
  entry: { main: "src/main.ts", "parse-worker": "src/documents/parsing/parse-worker.ts" },
  format: ["esm"],
  target: "node20",
  platform: "node",
  noExternal: [/^@vdb\//],
  clean: true,
  sourcemap: true,
});
