import { createRoute, z } from "@hono/zod-openapi";
import { limitBodySize } from "@vdb/http/app-defaults";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import {
  CreatedUpload,
  Document,
  DocumentWithChunks,
  ListDocumentsInput,
  TextDocumentFields,
  UploadFields,
} from "@vdb/schemas/documents";
import { DocumentId, TenantId } from "@vdb/schemas/ids";
import { pageOf } from "@vdb/schemas/pagination";
import { PLANS } from "@vdb/schemas/plans";
import { dataPlaneTenant } from "../data-plane/call-instance";
import { ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { createFromFiles, createTextDocument, createUpload, ingestDocument } from "./create-documents";
import { deleteDocument } from "./delete-document";
import { getDocument } from "./get-document";
import { listDocuments } from "./list-documents";

const tags = ["Documents"];

/** The multipart route reads whole files: bounded by the largest plan's file size (each file is checked against its own plan). */
export const MULTIPART_UPLOAD_PATH = /^\/api\/v1\/tenants\/[^/]+\/documents\/files$/;
const LARGEST_UPLOAD_BYTES = Math.max(...Object.values(PLANS).map((plan) => plan.maxUploadBytes));
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
  responses: { 201: jsonContent(Document, "The queued document"), ...ERROR_RESPONSES },
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
  responses: { 201: jsonContent(Document, "The queued document"), ...ERROR_RESPONSES },
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
  responses: { 201: jsonContent(CreatedUpload, "Where to PUT the file"), ...ERROR_RESPONSES },
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
  responses: { 200: jsonContent(Document, "The queued document"), ...ERROR_RESPONSES },
});

const remove = createRoute({
  method: "delete",
  path: "/tenants/{tenantId}/documents/{documentId}",
  tags,
  summary: "Delete a document, its chunks (from the instance too) and its file",
  security: SECURITY,
  request: { params: DocumentParams },
  responses: { 200: jsonContent(z.object({ deleted: z.literal(true) }), "Deleted"), ...ERROR_RESPONSES },
});

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
    return c.json(
      await getDocument({ ctx, input: { tenantId, documentId: c.req.valid("param").documentId } }),
      200,
    );
  })
  .openapi(upload, async (c) => {
    const input = { ...c.req.valid("json"), tenantId: c.req.valid("param").tenantId };
    return c.json(await createUpload({ ctx: ctxOf(c), input }), 201);
  })
  .openapi(list, async (c) => {
    const input = { ...c.req.valid("query"), tenantId: c.req.valid("param").tenantId };
    return c.json(await listDocuments({ ctx: ctxOf(c), input }), 200);
  })
  .openapi(get, async (c) => c.json(await getDocument({ ctx: ctxOf(c), input: c.req.valid("param") }), 200))
  .openapi(ingest, async (c) =>
    c.json(await ingestDocument({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(remove, async (c) =>
    c.json(await deleteDocument({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  // multipart/form-data: one or more `file` fields, optional `collection`, `chunkSize`, `chunkOverlap`.
  // (Not in the OpenAPI document: the generator cannot describe file parts.)
  .post("/tenants/:tenantId/documents/files", limitBodySize(LARGEST_UPLOAD_BYTES), async (c) => {
    const tenantId = TenantId.parse(c.req.param("tenantId"));
    const form = await c.req.parseBody({ all: true });
    const parts = ([] as unknown[]).concat(form.file ?? []);
    const files = await Promise.all(
      parts
        .filter((part): part is File => part instanceof File)
        .map(async (file) => ({
          filename: file.name,
          contentType: file.type || null,
          bytes: new Uint8Array(await file.arrayBuffer()),
        })),
    );
    const number = (value: unknown) =>
      typeof value === "string" && value !== "" ? Number(value) : undefined;
    const documents = await createFromFiles({
      ctx: ctxOf(c),
      input: {
        tenantId,
        files,
        ...(typeof form.collection === "string" ? { collection: form.collection } : {}),
        ...(number(form.chunkSize) !== undefined ? { chunkSize: number(form.chunkSize)! } : {}),
        ...(number(form.chunkOverlap) !== undefined ? { chunkOverlap: number(form.chunkOverlap)! } : {}),
      },
    });
    return c.json({ documents }, 201);
  });
