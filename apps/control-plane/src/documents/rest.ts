import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { closeConnectionOnError } from "@vdb/http/app-defaults";
import { errorResponses, jsonBody, jsonContent, SECURITY, shapedBy } from "@vdb/http/openapi";
import { Deleted } from "@vdb/schemas/answers";
import {
  Chunk,
  CreatedUpload,
  Document,
  DocumentWithChunks,
  IngestionStatus,
  ListDocumentsInput,
  TextDocumentFields,
  UploadFields,
} from "@vdb/schemas/documents";
import { DocumentId, TenantId } from "@vdb/schemas/ids";
import { pageOf } from "@vdb/schemas/pagination";
import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import { dataPlaneTenant } from "../data-plane/instance-client";
import { type AppEnv, ctxOf } from "../http/env";
import { jsonInPieces } from "../lib/json-in-pieces";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { createFromFiles } from "./create-from-files";
import { createTextDocument } from "./create-text-document";
import { createUpload } from "./create-upload";
import { deleteDocument } from "./delete-document";
import { admitFileUpload } from "./document-admission";
import { getDocument } from "./get-document";
import { getIngestionStatus } from "./get-ingestion-status";
import { ingestDocument } from "./ingest-document";
import { listDocuments } from "./list-documents";
import { receiveFiles } from "./receive-files";

const tags = ["Documents"];

/** A file part of a multipart/form-data body, as OpenAPI describes one. */
export const FilePart = z.string().openapi({ type: "string", format: "binary" });

/** What starting an ingestion may answer besides the common errors: a full queue, a full disk. */
const INGEST_ERROR_RESPONSES = {
  ...ERROR_RESPONSES,
  ...errorResponses({
    429: "RATE_LIMITED: the tenant's ingestion queue is full (INGEST_QUEUE_MAX_PER_TENANT); retry after `Retry-After` seconds",
    507: "STORAGE_FULL: the server's disk is full; an operator must free space",
  }),
};

/** The multipart route streams files to the blob store and limits them by the tenant's own plan. */
export const MULTIPART_UPLOAD_PATH = /^\/api\/v1\/tenants\/[^/]+\/documents\/files$/;
const TenantParams = z.object({ tenantId: TenantId });
const DocumentParams = TenantParams.extend({ documentId: DocumentId });
const TenantQuery = z.object({ tenantId: TenantId.optional() });

const createText = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/documents",
  tags,
  summary: "Ingest text or a JSON value (no file); the document is queued at once",
  security: SECURITY,
  request: {
    params: TenantParams,
    ...jsonBody(TextDocumentFields.omit({ tenantId: true })),
  },
  responses: { 201: jsonContent(Document, "The queued document"), ...INGEST_ERROR_RESPONSES },
});

const seedDocs = createRoute({
  method: "post",
  path: "/docs",
  tags,
  summary: "Seed `POST /docs`: ingest text or JSON; an API key implies its tenant (else ?tenantId=)",
  security: SECURITY,
  request: {
    query: TenantQuery,
    ...jsonBody(TextDocumentFields.omit({ tenantId: true })),
  },
  responses: { 201: jsonContent(Document, "The queued document"), ...INGEST_ERROR_RESPONSES },
});

const seedGet = createRoute({
  method: "get",
  path: "/docs/{documentId}",
  tags,
  summary: "Seed `GET /docs/:docId`: the document with its chunks",
  security: SECURITY,
  request: { params: z.object({ documentId: DocumentId }), query: TenantQuery },
  responses: { 200: jsonContent(DocumentWithChunks, "The document"), ...ERROR_RESPONSES },
});

const upload = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/documents/uploads",
  tags,
  summary: "Start an upload: a document and a URL to PUT the file to (then POST …/ingest)",
  security: SECURITY,
  request: { params: TenantParams, ...jsonBody(UploadFields.omit({ tenantId: true })) },
  responses: { 201: jsonContent(CreatedUpload, "Where to PUT the file"), ...INGEST_ERROR_RESPONSES },
});

const list = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/documents",
  tags,
  summary: "List documents, newest first (filter by status or collection)",
  security: SECURITY,
  request: { params: TenantParams, query: ListDocumentsInput.omit({ tenantId: true }) },
  responses: { 200: jsonContent(pageOf(Document), "A page of documents"), ...ERROR_RESPONSES },
});

const get = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/documents/{documentId}",
  tags,
  summary: "A document with its chunks and ingestion progress",
  security: SECURITY,
  request: { params: DocumentParams },
  responses: { 200: jsonContent(DocumentWithChunks, "The document"), ...ERROR_RESPONSES },
});

const ingest = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/documents/{documentId}/ingest",
  tags,
  summary: "Queue ingestion of an uploaded file, or re-ingest a document",
  security: SECURITY,
  request: { params: DocumentParams },
  responses: { 200: jsonContent(Document, "The queued document"), ...INGEST_ERROR_RESPONSES },
});

const ingestion = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/ingestion",
  tags,
  summary: "The tenant's ingestion queue: depth, its bound, recent pace, expected wait, why it waits",
  security: SECURITY,
  request: { params: TenantParams },
  responses: { 200: jsonContent(IngestionStatus, "The ingestion queue"), ...ERROR_RESPONSES },
});

const remove = createRoute({
  method: "delete",
  path: "/tenants/{tenantId}/documents/{documentId}",
  tags,
  summary: "Delete a document, its chunks (from the instance too) and its file",
  security: SECURITY,
  request: { params: DocumentParams },
  responses: { 200: jsonContent(Deleted, "Deleted"), ...ERROR_RESPONSES },
});

/**
 * The same JSON as `c.json(document)`, written a hundred chunks at a time with a turn of the event
 * loop between (see `jsonInPieces`): a document's thousands of chunks must not hold this process,
 * and every other tenant's requests, for the whole serialization. Shaped by the schemas as
 * `c.json` answers are (`shapeResponses`): the document, then each chunk as its piece is written.
 */
function documentWithChunksBody(c: Context, { chunks, ...document }: DocumentWithChunks) {
  const what = `${c.req.method} ${c.req.routePath}`;
  const head = shapedBy(Document, document, what);
  const body = c.body(
    jsonInPieces(head, "chunks", chunks, (chunk) => shapedBy(Chunk, chunk, what)),
    200,
    { "content-type": "application/json" },
  );
  // Its bytes are `JSON.stringify` of the document: typed as the c.json it replaces.
  return body as unknown as TypedResponse<JSONParsed<DocumentWithChunks>, 200, "json">;
}

const files = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/documents/files",
  tags,
  summary: "Upload files (multipart/form-data); each becomes a document, queued at once",
  description: `Files are streamed to the blob store as they arrive and limited by the tenant's plan
(\`maxUploadBytes\` per file); who may upload is checked before a byte of the body is read. Formats: PDF, HTML,
Markdown, plain text, JSON. A refused file (type, size, quota) refuses the whole request and stores nothing.`,
  security: SECURITY,
  request: {
    params: TenantParams,
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: z.object({
            file: z.union([FilePart, z.array(FilePart)]).openapi({ description: "One or more files" }),
            collection: z.string().optional(),
            chunkSize: z.string().optional().openapi({ description: "Characters per chunk (a number)" }),
            chunkOverlap: z.string().optional().openapi({ description: "Characters of overlap (a number)" }),
          }),
        },
      },
    },
  },
  responses: {
    201: jsonContent(z.object({ documents: z.array(Document) }), "The documents, queued for ingestion"),
    ...INGEST_ERROR_RESPONSES,
    ...errorResponses({ 413: "A file is larger than the plan's `maxUploadBytes`" }),
  },
});

/**
 * Describes the multipart route in the OpenAPI document: it is served by a plain handler (below)
 * that streams its files, so no generated validator may read the body first.
 */
export function documentFileUploadRoute(api: OpenAPIHono<AppEnv>): void {
  api.openAPIRegistry.registerPath(files);
}

export const documentsRest = restApp()
  .openapi(createText, async (c) => {
    const input = { ...c.req.valid("json"), tenantId: c.req.valid("param").tenantId };
    return c.json(await createTextDocument({ ctx: ctxOf(c), input }), 201);
  })
  .openapi(seedDocs, async (c) => {
    const ctx = ctxOf(c);
    const input = { ...c.req.valid("json"), tenantId: dataPlaneTenant(ctx, c.req.valid("query").tenantId) };
    return c.json(await createTextDocument({ ctx, input }), 201);
  })
  .openapi(seedGet, async (c) => {
    const ctx = ctxOf(c);
    const tenantId = dataPlaneTenant(ctx, c.req.valid("query").tenantId);
    const document = await getDocument({
      ctx,
      input: { tenantId, documentId: c.req.valid("param").documentId },
    });
    return documentWithChunksBody(c, document);
  })
  .openapi(upload, async (c) => {
    const input = { ...c.req.valid("json"), tenantId: c.req.valid("param").tenantId };
    return c.json(await createUpload({ ctx: ctxOf(c), input }), 201);
  })
  .openapi(list, async (c) => {
    const input = { ...c.req.valid("query"), tenantId: c.req.valid("param").tenantId };
    return c.json(await listDocuments({ ctx: ctxOf(c), input }), 200);
  })
  .openapi(get, async (c) =>
    documentWithChunksBody(c, await getDocument({ ctx: ctxOf(c), input: c.req.valid("param") })),
  )
  .openapi(ingest, async (c) =>
    c.json(await ingestDocument({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(ingestion, async (c) =>
    c.json(await getIngestionStatus({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(remove, async (c) =>
    c.json(await deleteDocument({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  // multipart/form-data: one or more `file` fields, optional `collection`, `chunkSize`, `chunkOverlap`.
  // (Described by `documentFileUploadRoute`: a generated validator would read the body first.)
  .post("/tenants/:tenantId/documents/files", closeConnectionOnError, async (c) => {
    const ctx = ctxOf(c);
    const tenantId = TenantId.parse(c.req.param("tenantId"));
    // Who may upload, and how much, is settled before a byte of the body is read.
    const plan = await admitFileUpload({ ctx, input: { tenantId } });
    const { fields, files } = await receiveFiles({
      ctx,
      input: { tenantId, plan, request: c.req.raw, fileFields: ["file"] },
    });
    const number = (value: unknown) =>
      typeof value === "string" && value !== "" ? Number(value) : undefined;
    const documents = await createFromFiles({
      ctx,
      input: {
        tenantId,
        files,
        ...(fields.collection !== undefined ? { collection: fields.collection } : {}),
        ...(number(fields.chunkSize) !== undefined ? { chunkSize: number(fields.chunkSize)! } : {}),
        ...(number(fields.chunkOverlap) !== undefined ? { chunkOverlap: number(fields.chunkOverlap)! } : {}),
      },
    });
    return c.json({ documents }, 201);
  });
