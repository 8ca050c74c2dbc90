import { CreatedUpload, CreateUploadInput } from "@vdb/schemas/documents";
import { newId } from "@vdb/schemas/ids";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { documents } from "../lib/db/schema";
import { assertCanAddDocument, assertQueueHasRoom, chunkingFor, holdRoomFor } from "./document-admission";
import { blobKeyOf } from "./receive-files";
import { toDocument } from "./to-document";

/** Seed 003, step 1: a document awaiting its file, and a URL to PUT the file to. */
export async function createUpload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: CreateUploadInput;
}): Promise<CreatedUpload> {
  const data = CreateUploadInput.parse(input);
  requireTenantScope(ctx.principal, data.tenantId, "write");
  const { db, blobs, config } = ctx.services;
  await assertCanAddDocument(db, data.tenantId, data.sizeBytes);
  // Refused before the file is sent, rather than at `…/ingest` after it was.
  await assertQueueHasRoom(ctx, data.tenantId);
  const chunking = await chunkingFor(db, data);
  const id = newId("document");
  const key = blobKeyOf(data.tenantId, id);
  const upload = await blobs.createUploadUrl(key, {
    ...(data.contentType ? { contentType: data.contentType } : {}),
    maxBytes: data.sizeBytes,
    expiresInSeconds: config.UPLOAD_URL_TTL_SECONDS,
  });
  const row = await db.transaction(async (tx) => {
    await holdRoomFor(tx, data.tenantId, 1);
    const [inserted] = await tx
      .insert(documents)
      .values({
        id,
        tenantId: data.tenantId,
        collection: data.collection,
        title: data.title ?? data.filename,
        filename: data.filename,
        contentType: data.contentType ?? null,
        sizeBytes: data.sizeBytes,
        blobKey: key,
        source: "upload",
        status: "uploading",
        ...chunking,
        metadata: data.metadata,
      })
      .returning();
    await recordAudit({
      ctx,
      db: tx,
      input: { tenantId: data.tenantId, action: "document.upload", targetId: id },
    });
    return inserted!;
  });
  return CreatedUpload.parse({ document: toDocument(row), upload });
}
