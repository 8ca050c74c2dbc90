import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** Where `vite` (dev) forwards API calls: a control plane started with `pnpm start`. */
const controlPlane = process.env.VDB_CONTROL_PLANE_URL ?? "http://127.0.0.1:8787";

export default defineConfig({
  plugins: [react()],
  // React, the router, TanStack Query and zod (the shared schemas validate every form) make
  // ~150 kB gzipped; one chunk is simplest to serve and cache.
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 700 },
  server: {
    port: 5173,
    proxy: {
      "/trpc": { target: controlPlane, changeOrigin: true },
      "/api": { target: controlPlane, changeOrigin: true },
      "/widget": { target: controlPlane, changeOrigin: true },
    },
  },
});
