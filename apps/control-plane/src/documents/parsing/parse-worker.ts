/**
 * The entry point of a parse sandbox process (see `ParseSandbox`): parses and chunks one file per
 * task. It holds no credentials and reads no configuration; everything comes with the task.
 */
import { type TokenWindow, useLiteTokenWindow } from "@vdb/embeddings/use-lite-tokens";
import { serveProcessPoolTasks } from "../../lib/process-pool-worker";
import { chunkSections, countTokens } from "./chunk-text";
import { DocumentParseError } from "./document-parse-error";
import { fitChunksToWindow } from "./fit-to-window";
import { parseDocument } from "./parse-document";
import type { ParseAndChunkInput, ParsedChunks } from "./parse-sandbox";

// What every worker needs, loaded before it reports ready: the deadline and the memory cap
// measure what a file costs, not the megabytes of pdf.js, mammoth and the tokenizer's rank table.
countTokens("warm up");
await import("pdfjs-dist/legacy/build/pdf.mjs");
await import("mammoth");

/** The input windows of the models whose tokenizer is known here (loaded on first use). */
const windows: Record<string, () => Promise<TokenWindow>> = { "use-lite": useLiteTokenWindow };

serveProcessPoolTasks(
  async (input, bytes): Promise<ParsedChunks> => {
    const { chunkSize, chunkOverlap, embeddingModel, ...document } = input as Omit<
      ParseAndChunkInput,
      "bytes"
    >;
    const parsed = await parseDocument({ ...document, bytes });
    const chunks = chunkSections(parsed.sections, { chunkSize, chunkOverlap });
    const window = embeddingModel ? await windows[embeddingModel]?.() : undefined;
    return { title: parsed.title, chunks: window ? fitChunksToWindow(chunks, window) : chunks };
  },
  (error) => (error instanceof DocumentParseError ? { kind: error.kind, reason: error.reason } : undefined),
);
