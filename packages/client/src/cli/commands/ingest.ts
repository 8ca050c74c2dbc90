import { readFile } from "node:fs/promises";
import path from "node:path";
import type { VdbOutputs } from "../../index";
import { type Command, TENANT_OPTION } from "../command";
import {
  CliError,
  describeError,
  isUnreachable,
  ServerError,
  serverErrorFields,
  UsageError,
} from "../errors";
import { type FoundFile, findIngestibleFiles, INGESTIBLE_TYPES } from "../find-files";
import { follow } from "../follow";
import { integerValue, singleArgument, stringValue } from "../option-values";
import { FileProgress } from "../progress";
import type { Session, TenantTarget } from "../session";
import { formatTable } from "../table";

type Document = VdbOutputs["documents"]["get"];

/** Files in flight at once: enough to keep the queue fed, few enough not to flood the server. */
const CONCURRENCY = 4;

export interface FileResult {
  file: string;
  documentId: string | null;
  status: "ready" | "failed";
  chunks: number;
  failureReason: string | null;
}

interface ChunkSettings {
  collection?: string | undefined;
  chunkSize?: number | undefined;
  chunkOverlap?: number | undefined;
}

export const ingest: Command = {
  path: ["ingest"],
  usage: "<folder|file> --tenant <slug|id> [--collection <name>] [--chunk-size <n>] [--chunk-overlap <n>]",
  summary: "Upload and ingest a folder of documents, with progress and a summary",
  description: [
    `Walks the folder for ${Object.keys(INGESTIBLE_TYPES).join(" ")} files (skipping hidden ones), uploads`,
    "each and follows its ingestion. Progress goes to stderr; the summary (or --json) to stdout.",
    "Exits with 1 when any file failed; the summary gives each failure's reason.",
  ].join("\n"),
  options: {
    tenant: TENANT_OPTION,
    collection: {
      type: "string",
      value: "<name>",
      description: 'Collection to ingest into (default: "default")',
    },
    "chunk-size": { type: "string", value: "<n>", description: "Tokens per chunk, 50-2000 (default: 400)" },
    "chunk-overlap": {
      type: "string",
      value: "<n>",
      description: "Tokens shared by neighbouring chunks (default: 50)",
    },
  },
  maxArguments: 1,
  examples: ["vdb ingest ./handbook --tenant acme --chunk-size 300"],
  prefers: "apiKey",
  async run({ args, values, session }) {
    const root = singleArgument(args, "<folder|file>");
    const settings: ChunkSettings = {
      collection: stringValue(values, "collection"),
      chunkSize: integerValue(values, "chunk-size", { min: 50, max: 2_000 }),
      chunkOverlap: integerValue(values, "chunk-overlap", { min: 0, max: 500 }),
    };
    const files = await findIngestibleFiles(root).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(error.code === "ENOENT" ? `no such file or folder: ${root}` : error.message);
    });
    if (files.length === 0) {
      throw new CliError(`nothing to ingest in ${root}: no ${Object.keys(INGESTIBLE_TYPES).join(" ")} files`);
    }
    const tenant = await session.resolveTenant(stringValue(values, "tenant"));
    await checkInstance(session, tenant);

    const progress = new FileProgress(session.streams.stderr, files.length);
    const results: FileResult[] = new Array(files.length);
    let next = 0;
    let fatal: unknown = null;
    const worker = async () => {
      while (fatal === null && next < files.length) {
        const index = next++;
        const file = files[index]!;
        try {
          results[index] = await ingestFile(session, tenant, file, settings, (status) =>
            progress.update(file.relativePath, status),
          );
          const result = results[index];
          progress.complete(
            file.relativePath,
            result.status === "ready"
              ? `ready, ${plural(result.chunks, "chunk")}`
              : `failed: ${result.failureReason}`,
          );
        } catch (error) {
          fatal ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
    progress.stop();
    if (fatal !== null) throw fatal;

    const failed = results.filter((result) => result.status === "failed");
    session.print(
      { tenantId: tenant.id, files: results, ready: results.length - failed.length, failed: failed.length },
      () =>
        [
          formatTable(
            ["FILE", "STATUS", "CHUNKS", "DOCUMENT", "REASON"],
            results.map((result) => [
              result.file,
              result.status,
              String(result.chunks),
              result.documentId ?? "-",
              result.failureReason ?? "",
            ]),
          ),
          "",
          `${plural(results.length, "file")}: ${results.length - failed.length} ready, ${failed.length} failed.`,
        ].join("\n"),
    );
    return failed.length > 0 ? 1 : 0;
  },
};

/** Refuses to upload into a tenant whose instance is not meant to run: ingestion would wait forever. */
async function checkInstance(session: Session, tenant: TenantTarget): Promise<void> {
  const hint = `launch it first: vdb instances launch --tenant ${tenant.label}`;
  let instance: VdbOutputs["instances"]["get"];
  try {
    instance = await session.client.instances.get.query({ tenantId: tenant.id });
  } catch (error) {
    if (serverErrorFields(error)?.code === "NOT_FOUND")
      throw new CliError(`${tenant.label} has no instance; ${hint}`);
    throw error;
  }
  if (instance.desiredState !== "running") {
    throw new CliError(`${tenant.label}'s instance is ${instance.state}; ${hint}`);
  }
  if (instance.state !== "running") {
    session.note(`note: ${tenant.label}'s instance is ${instance.state}; ingestion starts once it runs`);
  }
}

/**
 * One file: announce it, PUT its bytes to the upload URL, queue its ingestion and follow it to
 * ready or failed. Its own problems make a failed result; errors that will hit every file
 * (bad credential, no access, server unreachable) are thrown to stop the run.
 */
async function ingestFile(
  session: Session,
  tenant: TenantTarget,
  file: FoundFile,
  settings: ChunkSettings,
  onStatus: (status: string) => void,
): Promise<FileResult> {
  const result: FileResult = {
    file: file.relativePath,
    documentId: null,
    status: "failed",
    chunks: 0,
    failureReason: null,
  };
  if (file.sizeBytes === 0) return { ...result, failureReason: "the file is empty" };
  try {
    onStatus("uploading");
    const { document, upload } = await session.client.documents.createUpload.mutate({
      tenantId: tenant.id,
      filename: path.basename(file.relativePath),
      title: file.relativePath,
      contentType: file.contentType,
      sizeBytes: file.sizeBytes,
      ...(settings.collection ? { collection: settings.collection } : {}),
      ...(settings.chunkSize !== undefined ? { chunkSize: settings.chunkSize } : {}),
      ...(settings.chunkOverlap !== undefined ? { chunkOverlap: settings.chunkOverlap } : {}),
    });
    result.documentId = document.id;
    const put = await fetch(upload.url, {
      method: upload.method,
      headers: upload.headers,
      body: await readFile(file.absolutePath),
    });
    if (!put.ok) throw await ServerError.fromResponse(put);
    const ref = { tenantId: tenant.id, documentId: document.id };
    await session.client.documents.ingest.mutate(ref);
    onStatus("queued");
    const settled = await follow<Omit<Document, "chunks" | "nextCursor">>({
      subscribe: (handlers) => session.live.documents.onProgress.subscribe(ref, handlers),
      // The document and its progress only: its chunks are not needed to follow it.
      poll: () => session.client.documents.get.query({ ...ref, limit: 0 }),
      isDone: (current) => current.status === "ready" || current.status === "failed",
      onValue: (current) => onStatus(describeProgress(current)),
    });
    return settled.status === "ready"
      ? { ...result, status: "ready", chunks: settled.chunkCount }
      : { ...result, failureReason: settled.failureReason ?? "ingestion failed" };
  } catch (error) {
    if (isFatal(error)) throw error;
    return { ...result, failureReason: describeError(error, session.url) };
  }
}

function describeProgress(document: Pick<Document, "status" | "progress">): string {
  const { status, progress } = document;
  if (status === "processing" && progress && progress.total > 0)
    return `${progress.done}/${progress.total} chunks`;
  return status;
}

function isFatal(error: unknown): boolean {
  const fields = serverErrorFields(error);
  if (fields) return fields.code === "UNAUTHORIZED" || fields.code === "FORBIDDEN";
  return isUnreachable(error);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
