import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { closeConnectionOnError } from "@vdb/http/app-defaults";
import { errorResponses, jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import {
  Database,
  DatabaseDeleted,
  DatabaseFields,
  DatabaseId,
  DatabaseQueryResult,
  DatabaseStatus,
  QueryDatabaseFields,
} from "@vdb/schemas/databases";
import { Document } from "@vdb/schemas/documents";
import { TenantId } from "@vdb/schemas/ids";
import type { Context } from "hono";
import { requirePrincipal } from "../auth/authorize";
import { dataPlaneTenant } from "../data-plane/instance-client";
import { createFromFiles } from "../documents/create-from-files";
import { admitFileUpload } from "../documents/document-admission";
import { deleteReceived, receiveFiles } from "../documents/receive-files";
import { FilePart } from "../documents/rest";
import { type AppEnv, ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { createDatabase } from "./create-database";
import { deleteDatabase } from "./delete-database";
import { queryDatabase } from "./query-database";
import { getDatabase, getDatabaseStatus, listDatabases } from "./read-databases";

const tags = ["Databases"];

/** The seed's multipart create streams files to the blob store and limits them by the tenant's own plan. */
export const DATABASE_CREATE_PATH = /^\/api\/v1\/database\/create$/;

/** Needed with a session token; an API key implies its tenant. */
const TenantQuery = z.object({ tenantId: TenantId.optional() });
const DatabaseParams = z.object({ databaseId: DatabaseId });

const create = createRoute({
  method: "post",
  path: "/databases",
  tags,
  summary:
    "Create a named database (a collection with its own model and chunking); add files with the documents routes",
  security: SECURITY,
  request: { query: TenantQuery, ...jsonBody(DatabaseFields) },
  responses: { 201: jsonContent(Database, "Created"), ...ERROR_RESPONSES },
});

const list = createRoute({
  method: "get",
  path: "/databases",
  tags,
  summary: "The tenant's named databases",
  security: SECURITY,
  request: { query: TenantQuery },
  responses: { 200: jsonContent(z.array(Database), "Databases, oldest first"), ...ERROR_RESPONSES },
});

const get = createRoute({
  method: "get",
  path: "/databases/{databaseId}",
  tags,
  summary: "One database",
  security: SECURITY,
  request: { params: DatabaseParams, query: TenantQuery },
  responses: { 200: jsonContent(Database, "The database"), ...ERROR_RESPONSES },
});

const status = createRoute({
  method: "get",
  path: "/database/{databaseId}/status",
  tags,
  summary: "Seed 004 `GET /database/{id}/status`: ingestion progress of its documents",
  security: SECURITY,
  request: { params: DatabaseParams, query: TenantQuery },
  responses: { 200: jsonContent(DatabaseStatus, "Its state and document counts"), ...ERROR_RESPONSES },
});

const query = createRoute({
  method: "post",
  path: "/database/{databaseId}/query",
  tags,
  summary: "Seed 004 `POST /database/{id}/query`: nearest passages, embedded with the database's model",
  security: SECURITY,
  request: { params: DatabaseParams, query: TenantQuery, ...jsonBody(QueryDatabaseFields) },
  responses: { 200: jsonContent(DatabaseQueryResult, "Passages, best first"), ...ERROR_RESPONSES },
});

const remove = createRoute({
  method: "delete",
  path: "/databases/{databaseId}",
  tags,
  summary: "Delete a database: its collection, documents and files",
  security: SECURITY,
  request: { params: DatabaseParams, query: TenantQuery },
  responses: {
    200: jsonContent(DatabaseDeleted, "Deleted"),
    ...ERROR_RESPONSES,
  },
});

const SeedCreated = z.object({ database: Database, documents: z.array(Document), statusUrl: z.string() });

const seedCreate = createRoute({
  method: "post",
  path: "/database/create",
  tags,
  summary: "Create a database and upload its first files in one request (seed 004; multipart/form-data)",
  description: `The database is created, then its files are stored and queued for ingestion; if a file is refused,
the database is removed again. Poll \`statusUrl\` for the ingestion's progress. \`tenantId\` is needed with a session
token; an API key implies its tenant.`,
  security: SECURITY,
  request: {
    query: TenantQuery,
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: z.object({
            name: z.string(),
            files: z
              .union([FilePart, z.array(FilePart)])
              .optional()
              .openapi({ description: "Files (or `file`)" }),
            model: z.string().optional(),
            dimension: z.string().optional().openapi({ description: "A number" }),
            chunk_size: z.string().optional().openapi({ description: "Characters per chunk (a number)" }),
            chunk_overlap: z.string().optional().openapi({ description: "Characters of overlap (a number)" }),
          }),
        },
      },
    },
  },
  responses: {
    202: jsonContent(SeedCreated, "The database and its queued documents"),
    ...ERROR_RESPONSES,
    ...errorResponses({ 413: "A file is larger than the plan's `maxUploadBytes`" }),
  },
});

/** Describes the multipart create in the OpenAPI document; a plain handler (below) streams its files. */
export function documentSeedCreateRoute(api: OpenAPIHono<AppEnv>): void {
  api.openAPIRegistry.registerPath(seedCreate);
}

/** The tenant of a request and the database it names, from the path and `?tenantId`. */
function refOf(c: Context<AppEnv>, databaseId: string, tenantId: string | undefined) {
  const ctx = ctxOf(c);
  return { ctx, input: { tenantId: dataPlaneTenant(ctx, tenantId), databaseId } };
}

export const databasesRest = restApp()
  .openapi(create, async (c) => {
    const ctx = ctxOf(c);
    const input = { ...c.req.valid("json"), tenantId: dataPlaneTenant(ctx, c.req.valid("query").tenantId) };
    return c.json(await createDatabase({ ctx, input }), 201);
  })
  .openapi(list, async (c) => {
    const ctx = ctxOf(c);
    const tenantId = dataPlaneTenant(ctx, c.req.valid("query").tenantId);
    return c.json(await listDatabases({ ctx, input: { tenantId } }), 200);
  })
  .openapi(get, async (c) =>
    c.json(await getDatabase(refOf(c, c.req.valid("param").databaseId, c.req.valid("query").tenantId)), 200),
  )
  .openapi(status, async (c) =>
    c.json(
      await getDatabaseStatus(refOf(c, c.req.valid("param").databaseId, c.req.valid("query").tenantId)),
      200,
    ),
  )
  .openapi(query, async (c) => {
    const { ctx, input } = refOf(c, c.req.valid("param").databaseId, c.req.valid("query").tenantId);
    return c.json(await queryDatabase({ ctx, input: { ...input, ...c.req.valid("json") } }), 200);
  })
  .openapi(remove, async (c) =>
    c.json(
      await deleteDatabase(refOf(c, c.req.valid("param").databaseId, c.req.valid("query").tenantId)),
      200,
    ),
  )
  // Seed 004 `POST /database/create`, multipart/form-data: `name`, `files` (or `file`, repeated),
  // optional `model`, `dimension`, `chunk_size`, `chunk_overlap`. The database is created, then
  // its files are stored and queued; if a file is refused, the database is removed again.
  // (Described by `documentSeedCreateRoute`: a generated validator would read the body first.)
  .post("/database/create", closeConnectionOnError, async (c) => {
    const ctx = ctxOf(c);
    requirePrincipal(ctx.principal);
    const tenantId = dataPlaneTenant(ctx, c.req.query("tenantId"));
    // Who may upload, and how much, is settled before a byte of the body is read.
    const plan = await admitFileUpload({ ctx, input: { tenantId } });
    const { fields, files } = await receiveFiles({
      ctx,
      input: { tenantId, plan, request: c.req.raw, fileFields: ["files", "file"] },
    });
    const field = (...names: string[]) => {
      for (const name of names) {
        const value = fields[name];
        if (value !== undefined && value.trim() !== "") return value.trim();
      }
      return undefined;
    };
    const number = (...names: string[]) => {
      const value = field(...names);
      return value === undefined ? undefined : Number(value);
    };
    let database: Database;
    try {
      database = await createDatabase({
        ctx,
        input: {
          tenantId,
          name: field("name") ?? "",
          ...(field("model") ? { model: field("model") } : {}),
          ...(number("dimension") !== undefined ? { dimension: number("dimension") } : {}),
          ...(number("chunk_size", "chunkSize") !== undefined
            ? { chunkSize: number("chunk_size", "chunkSize") }
            : {}),
          ...(number("chunk_overlap", "chunkOverlap") !== undefined
            ? { chunkOverlap: number("chunk_overlap", "chunkOverlap") }
            : {}),
          // Validated by the verb's schema: an unknown mode is a 400 naming the field.
          ...(field("search_mode", "searchMode")
            ? { searchMode: field("search_mode", "searchMode") as never }
            : {}),
        },
      });
    } catch (error) {
      await deleteReceived(ctx, files);
      throw error;
    }
    let documents: Document[] = [];
    if (files.length > 0) {
      try {
        // Deletes the stored files itself when it refuses them.
        documents = await createFromFiles({ ctx, input: { tenantId, files, collection: database.name } });
      } catch (error) {
        await deleteDatabase({ ctx, input: { tenantId, databaseId: database.id } }).catch(() => {});
        throw error;
      }
    }
    const statusUrl = `/api/v1/database/${database.id}/status`;
    return c.json(SeedCreated.parse({ database, documents, statusUrl }), 202);
  });
