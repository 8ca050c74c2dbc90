import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** The two bundles: `--mode loader` (dist/widget.js) and `--mode core` (dist/core.js). */
export const ENTRIES = {
  loader: { entry: "src/loader.ts", fileName: "widget.js" },
  core: { entry: "src/core/main.tsx", fileName: "core.js" },
} as const;

export default defineConfig(({ mode }) => {
  const target = ENTRIES[mode === "core" ? "core" : "loader"];
  return {
    root: fileURLToPath(new URL(".", import.meta.url)),
    logLevel: "warn",
    oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
    build: {
      outDir: "dist",
      // The two builds share dist/: the second must not wipe the first.
      emptyOutDir: false,
      target: "es2020",
      minify: true,
      sourcemap: false,
      lib: {
        entry: target.entry,
        formats: ["iife"],
        name: mode === "core" ? "VDBWidgetCore" : "VDBWidgetLoader",
        fileName: () => target.fileName,
      },
    },
  };
});
