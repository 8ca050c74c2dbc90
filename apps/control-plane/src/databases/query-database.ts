import { type DatabaseQueryResult, QueryDatabaseInput } from "@vdb/schemas/databases";
import { requireTenantScope } from "../auth/authorize";
import { retrieveSources } from "../chat/retrieve-sources";
import type { Ctx } from "../lib/context";
import { findDatabaseOrThrow } from "./to-database";

/**
 * Seed 004, step 3: the passages best matching a query, in the query's mode or the database's
 * own (vector search embeds with the database's own model).
 */
export async function queryDatabase({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: QueryDatabaseInput;
}): Promise<DatabaseQueryResult> {
  const data = QueryDatabaseInput.parse(input);
  requireTenantScope(ctx.principal, data.tenantId, "read");
  const row = await findDatabaseOrThrow(ctx.services.db, data.tenantId, data.databaseId);
  const sources = await retrieveSources(ctx, {
    tenantId: data.tenantId,
    query: data.query,
    collection: row.name,
    nResults: data.nResults,
    mode: data.mode ?? row.searchMode,
    ...(data.where ? { where: data.where } : {}),
    metered: true,
  });
  return { databaseId: row.id, results: sources.map(({ n: _n, ...source }) => source) };
}
