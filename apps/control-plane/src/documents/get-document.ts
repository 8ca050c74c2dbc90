import { DocumentRef, type DocumentWithChunks } from "@vdb/schemas/documents";
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
  // One snapshot across the pages: a re-ingest committing meanwhile is seen whole or not at all.
  const chunkRows = await db.transaction(
    async (tx) => {
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
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
  return { ...toDocument(row, await ingestionProgress(db, documentId)), chunks: chunkRows.map(toChunk) };
}
