// Builds a Node service's dist/ with esbuild (passed in by the app's build.mjs, which depends on
// it): our TypeScript (the app and the workspace packages, which export source) is bundled into
// one ES module per entry; every npm package stays a separate module Node loads as usual.
//
// Why each npm import is rewritten to a relative file path: pnpm's isolated node_modules only
// makes a package's own dependencies resolvable from its directory, so `import "piscina"` from
// apps/instance/dist would fail (piscina is @vdb/embeddings' dependency, not the instance's).
// esbuild resolves each one from the file that imports it, exactly as Node would from source,
// and the bundle imports that file by a path relative to dist/ (the tree can move as a whole).
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** Marks an npm import external, by its path relative to `outdir`. */
function npmPackagesByPath(outdir) {
  return {
    name: "npm-packages-by-path",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData?.isResolving || args.path.startsWith("node:") || args.path.startsWith("@vdb/")) {
          return undefined;
        }
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: { isResolving: true },
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (resolved.external || !path.isAbsolute(resolved.path)) return { path: args.path, external: true };
        let relative = path.relative(outdir, resolved.path).split(path.sep).join("/");
        if (!relative.startsWith(".")) relative = `./${relative}`;
        return { path: relative, external: true };
      });
    },
  };
}

/**
 * @param {typeof import("esbuild")} esbuild
 * @param {{ appDir: string; entries: Record<string, string>; outdir?: string }} opts entries: output
 *   name → source; outdir: default `<appDir>/dist` (another must also be directly in appDir: code
 *   finds files relative to itself, as from src/)
 */
export async function buildNodeDist(esbuild, { appDir, entries, outdir = path.join(appDir, "dist") }) {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const started = performance.now();
  const result = await esbuild.build({
    entryPoints: Object.entries(entries).map(([out, source]) => ({ out, in: path.resolve(appDir, source) })),
    outdir,
    bundle: true,
    // Dynamic imports stay lazy (the instance starts Chroma before it loads the rest): each
    // becomes a chunk of its own, loaded when reached.
    splitting: true,
    // In dist/ itself: the npm import paths are relative to it.
    chunkNames: "[name]-[hash]",
    format: "esm",
    platform: "node",
    target: "node20",
    outExtension: { ".js": ".mjs" },
    sourcemap: true,
    logLevel: "warning",
    // Workspace packages' tsconfig paths do not matter: they are resolved through package exports.
    plugins: [npmPackagesByPath(outdir)],
    metafile: true,
  });
  // The runtime compares this stamp with the sources' mtimes (see local-runtime.ts).
  await writeFile(path.join(outdir, "BUILT"), `${new Date().toISOString()}\n`);
  const inputs = Object.keys(result.metafile.inputs).length;
  process.stdout.write(
    `built ${Object.keys(entries).join(", ")} into ${path.relative(process.cwd(), outdir) || "dist"} ` +
      `(${inputs} source files, ${Math.round(performance.now() - started)} ms)\n`,
  );
}
