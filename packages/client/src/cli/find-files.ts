import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";

/** The file types `vdb ingest` picks up, with the content type each is uploaded as. */
export const INGESTIBLE_TYPES: Record<string, string> = {
  ".pdf": "application/pdf",
  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  ".html": "text/html",
  ".htm": "text/html",
  ".md": "text/markdown",
  ".txt": "text/plain",
  ".json": "application/json",
};

export interface FoundFile {
  absolutePath: string;
  /** Relative to the folder given, with `/` separators: how the file is shown and titled. */
  relativePath: string;
  sizeBytes: number;
  contentType: string;
}

/**
 * The ingestible files under `root` (or `root` itself, if it is one such file), sorted by path.
 * Hidden files and folders and `node_modules` are skipped: they are never what someone means.
 */
export async function findIngestibleFiles(root: string): Promise<FoundFile[]> {
  const rootStat = await stat(root);
  if (rootStat.isFile()) {
    const contentType = INGESTIBLE_TYPES[path.extname(root).toLowerCase()];
    if (!contentType) return [];
    return [
      {
        absolutePath: path.resolve(root),
        relativePath: path.basename(root),
        sizeBytes: rootStat.size,
        contentType,
      },
    ];
  }
  const found: FoundFile[] = [];
  const visited = new Set<string>();
  async function visit(folder: string) {
    const real = await realpath(folder);
    if (visited.has(real)) return; // a link back up the tree
    visited.add(real);
    const entries = await readdir(folder, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const absolutePath = path.join(folder, entry.name);
      // Symbolic links are followed once, by stat; a link to a folder is walked like a folder.
      const info = entry.isSymbolicLink() ? await stat(absolutePath).catch(() => null) : entry;
      if (info?.isDirectory()) {
        await visit(absolutePath);
        continue;
      }
      const contentType = INGESTIBLE_TYPES[path.extname(entry.name).toLowerCase()];
      if (!info?.isFile() || !contentType) continue;
      found.push({
        absolutePath,
        relativePath: path.relative(root, absolutePath).split(path.sep).join("/"),
        sizeBytes: (await stat(absolutePath)).size,
        contentType,
      });
    }
  }
  await visit(root);
  return found.sort((a, b) => a.relativePath.localeCompare(b.relativePath));
}
