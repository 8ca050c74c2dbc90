import type { TRPCRouterRecord } from "@trpc/server";
import {
  CreateDatabaseInput,
  Database,
  DatabaseDeleted,
  DatabaseQueryResult,
  DatabaseRef,
  DatabaseStatus,
  ListDatabasesInput,
  QueryDatabaseInput,
} from "@vdb/schemas/databases";
import { z } from "zod";
import { verbCtx } from "../trpc/context";
import { procedure } from "../trpc/trpc";
import { createDatabase } from "./create-database";
import { deleteDatabase } from "./delete-database";
import { queryDatabase } from "./query-database";
import { getDatabase, getDatabaseStatus, listDatabases } from "./read-databases";

/** Named databases (seed 004); files go in with `documents.*` and the database's name as collection. */
export const databasesRouter = {
  create: procedure
    .input(CreateDatabaseInput)
    .output(Database)
    .mutation(({ ctx, input }) => createDatabase({ ctx: verbCtx(ctx), input })),
  list: procedure
    .input(ListDatabasesInput)
    .output(z.array(Database))
    .query(({ ctx, input }) => listDatabases({ ctx: verbCtx(ctx), input })),
  get: procedure
    .input(DatabaseRef)
    .output(Database)
    .query(({ ctx, input }) => getDatabase({ ctx: verbCtx(ctx), input })),
  status: procedure
    .input(DatabaseRef)
    .output(DatabaseStatus)
    .query(({ ctx, input }) => getDatabaseStatus({ ctx: verbCtx(ctx), input })),
  query: procedure
    .input(QueryDatabaseInput)
    .output(DatabaseQueryResult)
    .mutation(({ ctx, input }) => queryDatabase({ ctx: verbCtx(ctx), input })),
  delete: procedure
    .input(DatabaseRef)
    .output(DatabaseDeleted)
    .mutation(({ ctx, input }) => deleteDatabase({ ctx: verbCtx(ctx), input })),
} satisfies TRPCRouterRecord;
