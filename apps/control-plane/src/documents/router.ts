import type { TRPCRouterRecord } from "@trpc/server";
import { Deleted } from "@vdb/schemas/answers";
import {
  CreatedUpload,
  CreateTextDocumentInput,
  CreateUploadInput,
  Document,
  DocumentPage,
  DocumentRef,
  GetDocumentInput,
  IngestionStatus,
  IngestionStatusInput,
  ListDocumentsInput,
} from "@vdb/schemas/documents";
import { pageOf } from "@vdb/schemas/pagination";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { createTextDocument } from "./create-text-document";
import { createUpload } from "./create-upload";
import { deleteDocument } from "./delete-document";
import { getDocumentPage } from "./get-document";
import { getIngestionStatus } from "./get-ingestion-status";
import { ingestDocument } from "./ingest-document";
import { listDocuments } from "./list-documents";
import { watchDocument } from "./watch-document";

export const documentsRouter = {
  list: procedure
    .input(ListDocumentsInput)
    .output(pageOf(Document))
    .query(({ ctx, input }) => listDocuments({ ctx: verbCtx(ctx), input })),
  /** The document and one page of its chunks (`limit`, default 100; 0 for the document alone). */
  get: procedure
    .input(GetDocumentInput)
    .output(DocumentPage)
    .query(({ ctx, input }) => getDocumentPage({ ctx: verbCtx(ctx), input })),
  createText: procedure
    .input(CreateTextDocumentInput)
    .output(Document)
    .mutation(({ ctx, input }) => createTextDocument({ ctx: verbCtx(ctx), input })),
  createUpload: procedure
    .input(CreateUploadInput)
    .output(CreatedUpload)
    .mutation(({ ctx, input }) => createUpload({ ctx: verbCtx(ctx), input })),
  /** After the upload, and to re-ingest. */
  ingest: procedure
    .input(DocumentRef)
    .output(Document)
    .mutation(({ ctx, input }) => ingestDocument({ ctx: verbCtx(ctx), input })),
  /** The tenant's ingestion queue: depth, bound, pace, expected wait. */
  ingestionStatus: procedure
    .input(IngestionStatusInput)
    .output(IngestionStatus)
    .query(({ ctx, input }) => getIngestionStatus({ ctx: verbCtx(ctx), input })),
  delete: procedure
    .input(DocumentRef)
    .output(Deleted)
    .mutation(({ ctx, input }) => deleteDocument({ ctx: verbCtx(ctx), input })),
  /** Live ingestion progress over SSE, until ready or failed. */
  onProgress: procedure
    .input(DocumentRef)
    .subscription(({ ctx, input, signal }) =>
      watchDocument({ ctx: verbCtx(ctx), input, ...(signal ? { signal } : {}) }),
    ),
} satisfies TRPCRouterRecord;
