import { DocumentRef, type DocumentWithChunks } from "@vdb/schemas/documents";
import { asc, eq } from "drizzle-orm";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { chunks } from "../lib/db/schema";
import { findDocumentOrThrow, ingestionProgress, toChunk, toDocument } from "./to-document";

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
  const chunkRows = await db
    .select()
    .from(chunks)
    .where(eq(chunks.documentId, documentId))
    .orderBy(asc(chunks.index));
  return { ...toDocument(row, await ingestionProgress(db, documentId)), chunks: chunkRows.map(toChunk) };
}
