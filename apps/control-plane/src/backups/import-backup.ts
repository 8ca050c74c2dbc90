import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebStream } from "node:stream/web";
import { AppError, validationError } from "@vdb/http/errors";
import { assertCleanInput } from "@vdb/http/input-hygiene";
import { type Backup, type BackupCounts, ExportHeader, ExportLine } from "@vdb/schemas/backups";
import { newId, TenantId } from "@vdb/schemas/ids";
import { PLANS } from "@vdb/schemas/plans";
import { eq, sql } from "drizzle-orm";
import type { z } from "zod";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { backups, tenants } from "../lib/db/schema";
import { manifestKey, PartWriter, snapshotPrefix } from "./snapshot";
import { findBackupOrThrow, toBackup } from "./to-backup";

/** One line of an export: a record at 4,096-d is about 80 KB of JSON; documents' chunks less. */
const MAX_LINE_BYTES = 8 * 1024 * 1024;

function parseLine<T>(text: string, lineNumber: number, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError({ code: "BAD_REQUEST", message: `Line ${lineNumber} is not JSON` });
  }
  assertCleanInput(value, `line ${lineNumber}`);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const error = validationError(parsed.error);
    throw new AppError({ code: "VALIDATION_FAILED", message: `Line ${lineNumber}: ${error.message}` });
  }
  return parsed.data;
}

/**
 * Stores an uploaded export (the JSONL `GET …/backups/:id/export` gives) as a completed backup of
 * `tenantId`, read line by line as it streams in and checked line by line; restore it like any
 * backup. Nothing is kept of a file that fails a check.
 */
export async function importBackup({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { tenantId: string; body: ReadableStream<Uint8Array> | null };
}): Promise<Backup> {
  const tenantId = TenantId.parse(input.tenantId);
  requireTenantScope(ctx.principal, tenantId, "admin");
  if (!input.body)
    throw new AppError({ code: "BAD_REQUEST", message: "Send the export file as the request body" });
  const { db, blobs } = ctx.services;
  const [tenant] = await db
    .select({ plan: tenants.plan })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .limit(1);
  if (!tenant) throw new AppError({ code: "NOT_FOUND", message: "No such tenant" });
  const { maxRecords } = PLANS[tenant.plan];

  const id = newId("backup");
  const prefix = snapshotPrefix(tenantId, id);
  await db.insert(backups).values({ id, tenantId, source: "import", status: "running" });
  try {
    const lines = createInterface({
      input: Readable.fromWeb(input.body as NodeWebStream<Uint8Array>),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let header: ExportHeader | null = null;
    const writers = new Map<string, { writer: PartWriter; name: string; count: number }>();
    const control = new PartWriter(blobs, prefix);
    const counts: BackupCounts = { collections: 0, records: 0, documents: 0, chunks: 0 };
    let lineNumber = 0;
    for await (const text of lines) {
      lineNumber++;
      if (text.length > MAX_LINE_BYTES)
        throw new AppError({
          code: "PAYLOAD_TOO_LARGE",
          message: `Line ${lineNumber} is over ${MAX_LINE_BYTES} bytes`,
        });
      if (text.trim() === "") continue;
      if (!header) {
        header = parseLine(text, lineNumber, ExportHeader);
        header.collections.forEach((collection, index) => {
          writers.set(collection.name, {
            writer: new PartWriter(blobs, prefix),
            name: `records-${index}`,
            count: 0,
          });
        });
        continue;
      }
      const line = parseLine(text, lineNumber, ExportLine);
      if (line.type === "record") {
        const target = writers.get(line.collection);
        if (!target)
          throw new AppError({
            code: "BAD_REQUEST",
            message: `Line ${lineNumber}: collection "${line.collection}" is not in the header`,
          });
        if (++counts.records > maxRecords)
          throw new AppError({
            code: "QUOTA_EXCEEDED",
            message: `The tenant's plan holds at most ${maxRecords} records`,
          });
        target.count++;
        await target.writer.add(target.name, "records", line.collection, line);
      } else {
        if (line.type === "document") counts.documents++;
        else counts.chunks++;
        await control.add("control", "control", null, line);
      }
    }
    if (!header)
      throw new AppError({ code: "BAD_REQUEST", message: "The file is empty: it needs a header line" });
    const parts = [];
    for (const [collection, { writer, name }] of writers) {
      await writer.flush(name, "records", collection);
      parts.push(...writer.parts);
    }
    await control.flush("control", "control", null);
    parts.push(...control.parts);
    counts.collections = header.collections.length;
    const manifest = {
      header: {
        ...header,
        tenantId,
        backupId: id,
        collections: header.collections.map((collection) => ({
          ...collection,
          count: writers.get(collection.name)!.count,
        })),
        counts,
      },
      parts,
    };
    await blobs.put(manifestKey(tenantId, id), Buffer.from(JSON.stringify(manifest)), {
      contentType: "application/json",
    });
    await db
      .update(backups)
      .set({
        status: "completed",
        counts,
        sizeBytes: parts.reduce((total, part) => total + part.bytes, 0),
        completedAt: sql`now()`,
      })
      .where(eq(backups.id, id));
  } catch (error) {
    await db.delete(backups).where(eq(backups.id, id));
    await blobs.deletePrefix(prefix).catch(() => {});
    throw error;
  }
  const { backup, job } = await findBackupOrThrow(db, tenantId, id);
  return toBackup(backup, job);
}
