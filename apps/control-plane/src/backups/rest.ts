import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { closeConnectionOnError } from "@vdb/http/app-defaults";
import { jsonBody, jsonContent, SECURITY } from "@vdb/http/openapi";
import { Deleted } from "@vdb/schemas/answers";
import { Backup, ListBackupsInput, Restore, RestoreBackupInput } from "@vdb/schemas/backups";
import { BackupId, JobId, TenantId } from "@vdb/schemas/ids";
import { pageOf } from "@vdb/schemas/pagination";
import { type AppEnv, ctxOf } from "../http/env";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import { createBackup } from "./create-backup";
import { deleteBackup } from "./delete-backup";
import { exportBackup } from "./export-backup";
import { getBackup } from "./get-backup";
import { getRestore } from "./get-restore";
import { importBackup } from "./import-backup";
import { listBackups } from "./list-backups";
import { restoreBackup } from "./restore-backup";

const tags = ["Backups"];
const TenantParams = z.object({ tenantId: TenantId });
const BackupParams = TenantParams.extend({ backupId: BackupId });

/** The import route streams its body (an export can be hundreds of MB): no body-size limit before it. */
export const IMPORT_PATH = /^\/api\/v1\/tenants\/[^/]+\/backups\/import$/;

const create = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/backups",
  tags,
  summary: "Back up the tenant (all collections' records, documents and chunks); runs as a job",
  security: SECURITY,
  request: { params: TenantParams },
  responses: { 202: jsonContent(Backup, "The running backup"), ...ERROR_RESPONSES },
});

const list = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/backups",
  tags,
  summary: "The tenant's backups, newest first: time, size, record counts, progress",
  security: SECURITY,
  request: { params: TenantParams, query: ListBackupsInput.omit({ tenantId: true }) },
  responses: { 200: jsonContent(pageOf(Backup), "A page of backups"), ...ERROR_RESPONSES },
});

const get = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/backups/{backupId}",
  tags,
  summary: "One backup",
  security: SECURITY,
  request: { params: BackupParams },
  responses: { 200: jsonContent(Backup, "The backup"), ...ERROR_RESPONSES },
});

const remove = createRoute({
  method: "delete",
  path: "/tenants/{tenantId}/backups/{backupId}",
  tags,
  summary: "Delete a finished backup and its stored snapshot",
  security: SECURITY,
  request: { params: BackupParams },
  responses: { 200: jsonContent(Deleted, "Deleted"), ...ERROR_RESPONSES },
});

const restore = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/backups/{backupId}/restore",
  tags,
  summary: "Restore into this tenant (replacing its data) or into `targetTenantId`; runs as a job",
  security: SECURITY,
  request: { params: BackupParams, ...jsonBody(RestoreBackupInput.pick({ targetTenantId: true })) },
  responses: { 202: jsonContent(Restore, "The queued restore"), ...ERROR_RESPONSES },
});

const getRestoreRoute = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/restores/{restoreId}",
  tags,
  summary: "A restore into this tenant: status and progress",
  security: SECURITY,
  request: { params: TenantParams.extend({ restoreId: JobId }) },
  responses: { 200: jsonContent(Restore, "The restore"), ...ERROR_RESPONSES },
});

const exportRoute = createRoute({
  method: "get",
  path: "/tenants/{tenantId}/backups/{backupId}/export",
  tags,
  summary: "Download a completed backup as the portable JSONL export (see the README)",
  security: SECURITY,
  request: { params: BackupParams },
  responses: {
    200: {
      description: "JSONL: a header line, then one line per record, document and chunk",
      content: { "application/x-ndjson": { schema: z.string() } },
    },
    ...ERROR_RESPONSES,
  },
});

const importRoute = createRoute({
  method: "post",
  path: "/tenants/{tenantId}/backups/import",
  tags,
  summary:
    "Import an export file (the JSONL of …/export) as a completed backup of this tenant; restore it like any",
  description: `The body is the file itself, streamed and checked line by line: the header line, then record,
document and chunk lines. A file that fails a check is refused whole and nothing of it is kept.`,
  security: SECURITY,
  request: {
    params: TenantParams,
    body: { required: true, content: { "application/x-ndjson": { schema: z.string() } } },
  },
  responses: { 201: jsonContent(Backup, "The imported backup"), ...ERROR_RESPONSES },
});

/**
 * Describes the import route in the OpenAPI document: it is served by a plain handler (below)
 * that streams its body, so no generated validator may read the body first.
 */
export function backupImportRoute(api: OpenAPIHono<AppEnv>): void {
  api.openAPIRegistry.registerPath(importRoute);
}

export const backupsRest = restApp()
  .openapi(create, async (c) =>
    c.json(await createBackup({ ctx: ctxOf(c), input: c.req.valid("param") }), 202),
  )
  .openapi(list, async (c) => {
    const input = { ...c.req.valid("query"), tenantId: c.req.valid("param").tenantId };
    return c.json(await listBackups({ ctx: ctxOf(c), input }), 200);
  })
  .openapi(get, async (c) => c.json(await getBackup({ ctx: ctxOf(c), input: c.req.valid("param") }), 200))
  .openapi(remove, async (c) =>
    c.json(await deleteBackup({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(restore, async (c) => {
    const input = { ...c.req.valid("json"), ...c.req.valid("param") };
    return c.json(await restoreBackup({ ctx: ctxOf(c), input }), 202);
  })
  .openapi(getRestoreRoute, async (c) =>
    c.json(await getRestore({ ctx: ctxOf(c), input: c.req.valid("param") }), 200),
  )
  .openapi(exportRoute, async (c) => {
    const { filename, body } = await exportBackup({ ctx: ctxOf(c), input: c.req.valid("param") });
    return c.body(body, 200, {
      "content-type": "application/x-ndjson",
      "content-disposition": `attachment; filename="${filename}"`,
    }) as never;
  })
  // The export file as the raw body (JSONL). Not in the OpenAPI document: a streamed file body.
  .post("/tenants/:tenantId/backups/import", closeConnectionOnError, async (c) =>
    c.json(
      await importBackup({
        ctx: ctxOf(c),
        input: { tenantId: c.req.param("tenantId"), body: c.req.raw.body },
      }),
      201,
    ),
  );
