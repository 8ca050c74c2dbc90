// Builds a Node service's dist/ with esbuild (passed in by the app's build.mjs, which depends on
// it): our TypeScript (the app and the workspace packages, which export source) and the npm
// packages it imports are bundled into one ES module per entry, with shared chunks.
//
// Why npm packages are bundled too: a process start spent much of its CPU in Node's module
// loader, resolving, reading and compiling some thousand files one by one. Bundled, an instance
// (`hash` model) starts on 0.45× the CPU and a control plane on 0.79–0.87× (bench/provision/
// compiled.ts, which builds the unbundled layout too: `npmApart`; its COMPILED-RESULTS.md). The
// tests start hundreds of instances and dozens of control planes; production starts one per tenant.
//
// The packages in KEPT_APART stay separate modules, each imported by a relative file path:
// pnpm's isolated node_modules only makes a package's own dependencies resolvable from its
// directory, so `import "piscina"` from apps/instance/dist would fail (piscina is
// @vdb/embeddings' dependency, not the instance's). esbuild resolves each one from the file that
// imports it, exactly as Node would from source, and the bundle imports that file by a path
// relative to dist/ (the tree can move as a whole).
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * npm packages left as modules of their own, loaded from node_modules (`@scope/*`: the whole
 * scope): each finds files beside its own code (WASM, worker scripts, models, static assets),
 * which a bundle would move, or is a tool (esbuild, tsx) that is never bundled.
 */
const KEPT_APART = [
  "@electric-sql/pglite",
  "@energetic-ai/*",
  "@tensorflow/*",
  "esbuild",
  "pdfjs-dist",
  "piscina",
  "pino",
  "swagger-ui-dist",
  "tsx",
];

/** Whether an npm package is bundled (not in KEPT_APART). */
function isBundled(name) {
  return !KEPT_APART.some((kept) =>
    kept.endsWith("/*") ? name.startsWith(kept.slice(0, -1)) : name === kept,
  );
}

// Bundled CommonJS packages call require() (esbuild keeps it for Node's built-in modules) and may
// read __filename or __dirname, which an ES module lacks. Every output file starts with these.
const CJS_SHIMS = [
  'import { createRequire as __vdbCreateRequire } from "node:module";',
  'import { fileURLToPath as __vdbFileURLToPath } from "node:url";',
  "const require = __vdbCreateRequire(import.meta.url);",
  "const __filename = __vdbFileURLToPath(import.meta.url);",
  'const __dirname = __vdbFileURLToPath(new URL(".", import.meta.url));',
].join(" ");

/** The npm package an import names: `@scope/name` or `name`. */
function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/**
 * Marks an npm import external, by its path relative to `outdir`, unless it is bundled.
 * @param {string} outdir
 * @param {(name: string) => boolean} bundled by package name
 */
function npmPackagesByPath(outdir, bundled) {
  return {
    name: "npm-packages-by-path",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData?.isResolving || args.path.startsWith("node:") || args.path.startsWith("@vdb/")) {
          return undefined;
        }
        if (bundled(packageName(args.path))) return undefined;
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
 * @param {{ appDir: string; entries: Record<string, string>; outdir?: string; npmApart?: boolean }} opts
 *   entries: output name → source; outdir: default `<appDir>/dist` (another must also be directly
 *   in appDir: code finds files relative to itself, as from src/); npmApart: every npm package as
 *   a module of its own, not only KEPT_APART (the layout before npm packages were bundled, which
 *   bench/provision/compiled.ts compares with)
 */
export async function buildNodeDist(
  esbuild,
  { appDir, entries, outdir = path.join(appDir, "dist"), npmApart = false },
) {
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
    plugins: [npmPackagesByPath(outdir, npmApart ? () => false : isBundled)],
    banner: { js: CJS_SHIMS },
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
