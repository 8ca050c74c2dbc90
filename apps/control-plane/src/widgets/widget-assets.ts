import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "@vdb/http/errors";

/** The files the widget's build produces, by the path the control plane serves them at. */
export const WIDGET_ASSETS = {
  "/widget.js": "widget.js",
  "/widget/core.js": "core.js",
} as const;

export type WidgetAssetPath = keyof typeof WIDGET_ASSETS;

/**
 * Where the built widget is: `WIDGET_DIST_DIR` when set, else `apps/widget/dist` found from this
 * file (run from source, `src/widgets/`) or from the bundled control plane (`dist/`).
 */
export function resolveWidgetDistDir(configured: string | undefined): string {
  if (configured) return path.resolve(configured);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, "../../../widget/dist"), path.resolve(here, "../../widget/dist")];
  return candidates.find((dir) => existsSync(path.join(dir, "widget.js"))) ?? candidates[0]!;
}

/**
 * One built widget file, read once and kept in memory. A widget that was never built is a 503
 * that says how to build it (the snippet on tenants' sites keeps working once it is).
 */
export function widgetAssetReader(distDir: string) {
  const cache = new Map<string, Promise<Buffer>>();
  return async (asset: WidgetAssetPath): Promise<Buffer> => {
    const file = path.join(distDir, WIDGET_ASSETS[asset]);
    let content = cache.get(file);
    if (!content) {
      content = readFile(file);
      cache.set(file, content);
      content.catch(() => cache.delete(file));
    }
    try {
      return await content;
    } catch {
      throw new AppError({
        code: "SERVICE_UNAVAILABLE",
        message: `The chat widget is not built (${file} is missing): run \`pnpm --filter @vdb/widget build\``,
      });
    }
  };
}
