import { ExportHeader, type ExportLine } from "@vdb/schemas/backups";
import { z } from "zod";
import type { BlobStore } from "../blobs/blob-store";

/**
 * A snapshot in the blob store, under `tenants/<tenantId>/backups/<backupId>/`:
 *
 * - `records-<c>-<n>.jsonl`: collection c's records, PART_LINES export lines per part;
 * - `control-<n>.jsonl`: the control plane's document and chunk lines;
 * - `manifest.json`: the export header and the list of parts, written **last**. A snapshot
 *   without it is unfinished (a backup that was interrupted) and is never read.
 *
 * Parts keep every read and write to a few MB whatever the tenant's size, and let the export
 * be streamed as the header line followed by the parts' bytes.
 */
export const PART_LINES = 2_000;

export const SnapshotPart = z.object({
  key: z.string(),
  kind: z.enum(["records", "control"]),
  /** The collection's name, for record parts. */
  collection: z.string().nullable(),
  lines: z.number().int(),
  bytes: z.number().int(),
});
export type SnapshotPart = z.infer<typeof SnapshotPart>;

export const Manifest = z.object({ header: ExportHeader, parts: z.array(SnapshotPart) });
export type Manifest = z.infer<typeof Manifest>;

export function snapshotPrefix(tenantId: string, backupId: string): string {
  return `tenants/${tenantId}/backups/${backupId}/`;
}

export function manifestKey(tenantId: string, backupId: string): string {
  return `${snapshotPrefix(tenantId, backupId)}manifest.json`;
}

export async function readManifest(blobs: BlobStore, tenantId: string, backupId: string): Promise<Manifest> {
  const bytes = await blobs.get(manifestKey(tenantId, backupId));
  return Manifest.parse(JSON.parse(Buffer.from(bytes).toString("utf8")));
}

/** A part's lines, parsed (they were validated when written). */
export async function readPart(blobs: BlobStore, part: SnapshotPart): Promise<ExportLine[]> {
  const text = Buffer.from(await blobs.get(part.key)).toString("utf8");
  const lines: ExportLine[] = [];
  for (const line of text.split("\n")) if (line) lines.push(JSON.parse(line) as ExportLine);
  return lines;
}

/** Collects lines and writes them out as parts of PART_LINES lines. */
export class PartWriter {
  readonly parts: SnapshotPart[] = [];
  private lines: string[] = [];
  private partNumber = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly prefix: string,
  ) {}

  async add(name: string, kind: SnapshotPart["kind"], collection: string | null, line: ExportLine) {
    this.lines.push(JSON.stringify(line));
    if (this.lines.length >= PART_LINES) await this.flush(name, kind, collection);
  }

  /** Writes the lines held so far as one part named `<name>-<n>.jsonl`. */
  async flush(name: string, kind: SnapshotPart["kind"], collection: string | null): Promise<void> {
    if (this.lines.length === 0) return;
    const key = `${this.prefix}${name}-${String(this.partNumber++).padStart(6, "0")}.jsonl`;
    const body = Buffer.from(`${this.lines.join("\n")}\n`);
    const { sizeBytes } = await this.blobs.put(key, body, { contentType: "application/x-ndjson" });
    this.parts.push({ key, kind, collection, lines: this.lines.length, bytes: sizeBytes });
    this.lines = [];
  }
}
