import { AppError } from "@vdb/http/errors";
import {
  type DocumentPage,
  DocumentRef,
  type DocumentWithChunks,
  GetDocumentInput,
} from "@vdb/schemas/documents";
import { and, asc, eq, gt } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import { yieldToEventLoop } from "../lib/concurrency";
import type { Ctx } from "../lib/context";
import { chunks } from "../lib/db/schema";
import { findDocumentOrThrow, ingestionProgress, toChunk, toDocument } from "./to-document";

/**
 * Chunk rows per read. A large document has thousands (megabytes of text); reading and decoding
 * them in one query held the serving thread for hundreds of ms (PGlite decodes in-process).
 */
const CHUNKS_PER_READ = 200;

/** Seed `GET /docs/:docId`: the document, its ingestion progress and its chunks in order. */
export async function getDocument({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: DocumentRef;
}): Promise<DocumentWithChunks> {
  const { tenantId, documentId } = DocumentRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const { db } = ctx.services;
  const row = await findDocumentOrThrow(db, tenantId, documentId);
  const readAll = async (tx: Pick<typeof db, "select">) => {
    const all: (typeof chunks.$inferSelect)[] = [];
    for (;;) {
      const page = await tx
        .select()
        .from(chunks)
        .where(and(eq(chunks.documentId, documentId), gt(chunks.index, all.at(-1)?.index ?? -1)))
        .orderBy(asc(chunks.index))
        .limit(CHUNKS_PER_READ);
      all.push(...page);
      if (page.length < CHUNKS_PER_READ) return all;
      await yieldToEventLoop();
    }
  };
  // On PostgreSQL one snapshot across the pages: a re-ingest committing meanwhile is seen whole or
  // not at all. Embedded PGlite would hold every other query of the process for the whole read
  // (it runs one transaction at a time), and writes a document's chunk rows statement by statement
  // anyway (see ingest-job): there the pages are read one by one.
  const chunkRows =
    ctx.services.store.kind === "pglite"
      ? await readAll(db)
      : await db.transaction(readAll, { isolationLevel: "repeatable read", accessMode: "read only" });
  return { ...toDocument(row, await ingestionProgress(db, documentId)), chunks: chunkRows.map(toChunk) };
}

/** The position after which the next page starts: the last chunk index shown, opaque to callers. */
function encodeChunkCursor(index: number): string {
  return Buffer.from(JSON.stringify(["chunk", index])).toString("base64url");
}

function decodeChunkCursor(cursor: string | undefined): number {
  if (cursor === undefined) return -1;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value[0] === "chunk" && Number.isSafeInteger(value[1]) && value[1] >= 0)
      return value[1] as number;
  } catch {
    // fall through to the error below
  }
  throw new AppError({ code: "BAD_REQUEST", message: "cursor is not one this API returned" });
}

/**
 * tRPC `documents.get`: the document, its progress and one page of its chunks (`limit`, default
 * 100, at most 500; 0 for the document alone), so no response holds a whole large document. Pages
 * follow chunk indexes: a document re-ingested between two pages continues with the new chunks.
 */
export async function getDocumentPage({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: GetDocumentInput;
}): Promise<DocumentPage> {
  const { tenantId, documentId, limit, cursor } = GetDocumentInput.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const after = decodeChunkCursor(cursor);
  const { db } = ctx.services;
  const row = await findDocumentOrThrow(db, tenantId, documentId);
  const document = toDocument(row, await ingestionProgress(db, documentId));
  if (limit === 0) return { ...document, chunks: [], nextCursor: null };
  const rows = await db
    .select()
    .from(chunks)
    .where(and(eq(chunks.documentId, documentId), gt(chunks.index, after)))
    .orderBy(asc(chunks.index))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    ...document,
    chunks: page.map(toChunk),
    nextCursor: rows.length > limit && last ? encodeChunkCursor(last.index) : null,
  };
}
