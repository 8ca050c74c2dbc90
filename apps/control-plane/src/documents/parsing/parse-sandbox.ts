import { fileURLToPath } from "node:url";
import { currentBuildOf } from "../../lib/compiled-build";
import type { Logger } from "../../lib/logger";
import { ProcessPool, TaskDeadlineError, TaskFailedError, TaskMemoryError } from "../../lib/process-pool";
import type { TextChunk } from "./chunk-text";
import { DocumentParseError, type DocumentParseFailure } from "./document-parse-error";
import type { ParseDocumentInput } from "./parse-document";

export type ParseAndChunkInput = Omit<ParseDocumentInput, "bytes"> & {
  bytes: Uint8Array;
  chunkSize: number;
  chunkOverlap: number;
  /**
   * The model that will embed the chunks: one whose input window is known here (`use-lite`)
   * gets chunks it reads whole (see `fitChunksToWindow`).
   */
  embeddingModel?: string;
};

export type ParsedChunks = { title: string; chunks: TextChunk[] };

export type ParseSandboxOptions = {
  workers: number;
  workersPerTenant: number;
  timeoutMs: number;
  memoryMb: number;
  /** Longest PDF read, in pages. */
  maxPdfPages: number;
  logger: Logger;
};

// The compiled build bundles the worker beside dist/main.mjs. A source checkout (and the tests)
// runs that build of it when it is current, else its TypeScript through tsx.
const WORKER_FILE = import.meta.url.endsWith(".ts")
  ? (currentBuildOf("parse-worker") ?? fileURLToPath(new URL("./parse-worker.ts", import.meta.url)))
  : fileURLToPath(new URL("./parse-worker.mjs", import.meta.url));

/**
 * Parsing and chunking, never on the serving event loop: each file is read in a child process
 * (`ProcessPool`) under a hard deadline and memory cap, fairly across tenants. Every failure the
 * file causes (its content, the deadline, the memory cap) is a `DocumentParseError` whose reason
 * the uploader can act on, and is final; a worker that crashed for another reason rejects with a
 * plain error, which the ingestion job retries.
 *
 * @example
 * const { chunks } = await sandbox.parseAndChunk(tenantId, { bytes, filename: "a.pdf", maxBytes, chunkSize: 500, chunkOverlap: 50 }, signal);
 */
export class ParseSandbox {
  private readonly pool: ProcessPool;

  constructor(private readonly opts: ParseSandboxOptions) {
    this.pool = new ProcessPool({
      workerFile: WORKER_FILE,
      workers: opts.workers,
      workersPerTenant: opts.workersPerTenant,
      timeoutMs: opts.timeoutMs,
      memoryMb: opts.memoryMb,
      logger: opts.logger,
    });
  }

  async parseAndChunk(
    tenantId: string,
    input: ParseAndChunkInput,
    signal?: AbortSignal,
  ): Promise<ParsedChunks> {
    // The PDF reader also watches the clock between pages, and stops with the page it reached.
    const limits = { maxPages: this.opts.maxPdfPages, maxMillis: this.opts.timeoutMs, ...input.limits };
    const { bytes, ...rest } = input;
    try {
      // The file's bytes go over the worker's stdin, not through this thread's serialiser.
      return (await this.pool.run(tenantId, { ...rest, limits }, { signal, payload: bytes })) as ParsedChunks;
    } catch (error) {
      throw this.toParseError(error) ?? error;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private toParseError(error: unknown): DocumentParseError | undefined {
    if (error instanceof TaskDeadlineError) {
      return new DocumentParseError({
        kind: "too_complex",
        reason: `the file took longer than ${formatSeconds(error.timeoutMs)} to parse; split it into smaller files`,
      });
    }
    if (error instanceof TaskMemoryError) {
      return new DocumentParseError({
        kind: "too_complex",
        reason: `the file needed more than ${error.memoryMb} MB of memory to parse; split it into smaller files`,
      });
    }
    if (error instanceof TaskFailedError) {
      const data = error.error.data as { kind: DocumentParseFailure; reason: string } | undefined;
      if (data) return new DocumentParseError(data);
      // A bug of ours, not the file's, but the same bytes would hit it again: do not retry.
      this.opts.logger.error({ err: error.error }, "parsing failed unexpectedly");
      return new DocumentParseError({
        kind: "damaged",
        reason: "the file could not be parsed (an internal error; the operator's logs have the details)",
      });
    }
    return undefined;
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}
