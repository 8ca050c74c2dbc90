import { AppError } from "@vdb/http/errors";
import { type Document, FileUploadSettings } from "@vdb/schemas/documents";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { documents } from "../lib/db/schema";
import { assertQueueHasRoom, chunkingFor, enqueueIngestion, holdRoomFor } from "./document-admission";
import { deleteReceived, MAX_FILES_PER_REQUEST, type ReceivedFile } from "./receive-files";
import { toDocument } from "./to-document";

/**
 * A direct multipart upload, its files already streamed to the blob store by `receiveFiles`:
 * each becomes a queued document, all in one transaction. If any is refused (the plan's
 * document count, a bad setting) none is created and the stored files are deleted: nothing of
 * the request is left behind.
 */
export async function createFromFiles({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: {
    tenantId: string;
    files: ReceivedFile[];
    collection?: string;
    chunkSize?: number;
    chunkOverlap?: number;
  };
}): Promise<Document[]> {
  try {
    const settings = FileUploadSettings.parse({
      tenantId: input.tenantId,
      ...(input.collection ? { collection: input.collection } : {}),
      ...(input.chunkSize ? { chunkSize: input.chunkSize } : {}),
      ...(input.chunkOverlap !== undefined ? { chunkOverlap: input.chunkOverlap } : {}),
    });
    requireTenantScope(ctx.principal, input.tenantId, "write");
    if (input.files.length === 0 || input.files.length > MAX_FILES_PER_REQUEST) {
      throw new AppError({
        code: "BAD_REQUEST",
        message: `Send between 1 and ${MAX_FILES_PER_REQUEST} files in the \`file\` field`,
      });
    }
    const { db } = ctx.services;
    await assertQueueHasRoom(ctx, input.tenantId, input.files.length);
    const chunking = await chunkingFor(db, settings);
    const rows = await db.transaction(async (tx) => {
      // receiveFiles cut each file off at the plan's size; the count is checked for all at once.
      await holdRoomFor(tx, input.tenantId, input.files.length);
      const inserted = [];
      for (const file of input.files) {
        const [row] = await tx
          .insert(documents)
          .values({
            id: file.documentId,
            tenantId: input.tenantId,
            collection: settings.collection,
            title: file.filename,
            filename: file.filename,
            contentType: file.contentType,
            sizeBytes: file.sizeBytes,
            blobKey: file.blobKey,
            source: "upload",
            status: "queued",
            ...chunking,
            metadata: {},
          })
          .returning();
        await enqueueIngestion(ctx, tx, row!);
        await recordAudit({
          ctx,
          db: tx,
          input: { tenantId: input.tenantId, action: "document.upload", targetId: row!.id },
        });
        inserted.push(row!);
      }
      return inserted;
    });
    ctx.services.jobs.nudge();
    return rows.map((row) => toDocument(row, { done: 0, total: 0 }));
  } catch (error) {
    await deleteReceived(ctx, input.files);
    throw error;
  }
}
