import { AppError } from "@vdb/http/errors";
import { DocumentRef } from "@vdb/schemas/documents";
import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import { servingInstance } from "../instances/serving-instance";
import type { Ctx } from "../lib/context";
import { documents } from "../lib/db/schema";
import { findDocumentOrThrow } from "./to-document";

/**
 * Deletes a document: its chunks from the tenant's instance, its file, then its rows. The
 * instance goes first: if it cannot be reached the document stays, whole, and the error says so.
 */
export async function deleteDocument({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: DocumentRef;
}): Promise<{ deleted: true }> {
  const { tenantId, documentId } = DocumentRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "write");
  const { db, blobs } = ctx.services;
  const document = await findDocumentOrThrow(db, tenantId, documentId);
  if (document.status === "processing") {
    throw new AppError({
      code: "CONFLICT",
      message: "The document is being ingested; delete it when that ends",
    });
  }
  const instance = await servingInstance(db, tenantId);
  if (instance && document.chunkCount > 0) {
    const result = await ctx.services.instances.call(ctx, {
      tenantId,
      scope: "write",
      method: "POST",
      path: "/delete",
      body: { collection: document.collection, where: { documentId } },
    });
    if (result.status >= 400 && result.status !== 404) {
      throw new AppError({
        code: "SERVICE_UNAVAILABLE",
        message: "The instance did not delete the chunks; try again",
      });
    }
  }
  if (document.blobKey) await blobs.delete(document.blobKey);
  await db.transaction(async (tx) => {
    await tx.delete(documents).where(eq(documents.id, documentId));
    await recordAudit({ ctx, db: tx, input: { tenantId, action: "document.delete", targetId: documentId } });
  });
  return { deleted: true };
}
