import { execFile } from "node:child_process";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "@vdb/http/errors";
import { jsonContent, SECURITY } from "@vdb/http/openapi";
import { forgetCollection, listAllCollections, rethrowChroma } from "../collections/chroma-collections";
import { CONTROL_PLANE_SUBJECT, requireScope } from "../http/require-scope";
import type { Logger } from "../logger";
import { ERROR_RESPONSES, restApp } from "../rest/openapi";
import type { InstanceServices } from "../services";
import { POOL_DATABASE, poolNamespace, tenantDataDir } from "./tenant-scopes";

const PurgeResult = z.object({
  tenantId: z.string(),
  collections: z.number().int(),
  documents: z.number().int(),
  /** Chroma's index directories of deleted collections removed from disk (see removeOrphanIndexes). */
  indexDirectories: z.number().int(),
});
export type PurgeResult = z.infer<typeof PurgeResult>;

/**
 * Removes a pool tenant's data from the pool: every collection of its Chroma namespace, the
 * namespace's database, the index directories Chroma leaves behind, its keyword index files,
 * and its state in memory. Under the tenant's write lock, so no write of its interleaves. Its
 * neighbours' collections, files and state are not touched. Safe to repeat.
 */
export async function purgeTenant(ctx: InstanceServices): Promise<PurgeResult> {
  const tenantId = ctx.config.TENANT_ID;
  if (!ctx.poolTenants || !tenantId) {
    throw new AppError({ code: "NOT_FOUND", message: "Only a pool removes a tenant's data this way" });
  }
  const result = await ctx.writeLock.run(async () => {
    let documents = 0;
    const collections = await listAllCollections(ctx.chroma);
    for (const collection of collections) {
      documents += await collection.count().catch(rethrowChroma);
      await ctx.chroma.deleteCollection({ name: collection.name }).catch(rethrowChroma);
      await ctx.keywordIndexes.drop(collection.id);
    }
    forgetCollection(ctx.chroma);
    const database = await fetch(`${ctx.chromaUrl}${poolNamespace(tenantId)}`, { method: "DELETE" });
    if (!database.ok && database.status !== 404) {
      throw new AppError({
        code: "SERVICE_UNAVAILABLE",
        message: `The pool's vector store did not delete the tenant's database (${database.status}); retry`,
      });
    }
    await rm(tenantDataDir(ctx.config.DATA_DIR, tenantId), { recursive: true, force: true });
    return { collections: collections.length, documents };
  });
  ctx.poolTenants.forget(tenantId);
  const indexDirectories = ctx.chromaDataDir ? await removeOrphanIndexes(ctx.chromaDataDir, ctx.logger) : 0;
  ctx.logger.info({ ...result, indexDirectories, database: POOL_DATABASE }, "pool tenant's data removed");
  return { tenantId, ...result, indexDirectories };
}

const UUID_DIR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const run = promisify(execFile);

/**
 * Chroma 1.0 deletes a collection's records but leaves its HNSW index directory (~22 MB, named
 * by the collection's vector segment id) on disk. Every directory that no segment of Chroma's
 * own SQLite names any more is such a leftover, and is removed. Chroma's database is read with
 * the `sqlite3` command, read-only (its journal mode is `delete`: a reader sees committed rows);
 * without that command nothing is removed and the leftovers are logged.
 */
export async function removeOrphanIndexes(chromaDataDir: string, logger: Logger): Promise<number> {
  const directories = (await readdir(chromaDataDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && UUID_DIR.test(entry.name))
    .map((entry) => entry.name);
  if (directories.length === 0) return 0;
  let segments: Set<string>;
  try {
    const { stdout } = await run(
      "sqlite3",
      ["-readonly", path.join(chromaDataDir, "chroma.sqlite3"), "SELECT id FROM segments;"],
      { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
    );
    segments = new Set(stdout.split("\n").map((line) => line.trim()));
  } catch (error) {
    logger.warn({ err: error }, "could not read Chroma's segments (is sqlite3 installed?): index files left");
    return 0;
  }
  // A collection's segments are recorded when it is created, before its first write makes the
  // directory: a directory without a segment is one whose collection was deleted.
  const orphans = directories.filter((name) => !segments.has(name));
  for (const name of orphans) await rm(path.join(chromaDataDir, name), { recursive: true, force: true });
  return orphans.length;
}

const purge = createRoute({
  method: "delete",
  path: "/pool/tenant",
  tags: ["Pool"],
  summary:
    "Pool only, for the control plane deleting a tenant: remove all of the token's tenant's data from the pool",
  security: SECURITY,
  middleware: [requireScope("admin")] as const,
  responses: { 200: jsonContent(PurgeResult, "Removed (or nothing was there)"), ...ERROR_RESPONSES },
});

export const purgeTenantRest = restApp().openapi(purge, async (c) => {
  if (c.get("identity")?.subject !== CONTROL_PLANE_SUBJECT) {
    throw new AppError({ code: "FORBIDDEN", message: "Only the control plane removes a tenant's data" });
  }
  return c.json(await purgeTenant(c.get("services")), 200);
});
