import { CreateTextDocumentInput, type Document } from "@vdb/schemas/documents";
import { newId } from "@vdb/schemas/ids";
import { recordAudit } from "../audit/record-audit";
import { requireTenantScope } from "../auth/authorize";
import type { Ctx } from "../lib/context";
import { documents } from "../lib/db/schema";
import {
  assertCanAddDocument,
  assertQueueHasRoom,
  chunkingFor,
  enqueueIngestion,
  holdRoomFor,
} from "./document-admission";
import { blobKeyOf } from "./receive-files";
import { toDocument } from "./to-document";

type NewDocument = Omit<typeof documents.$inferInsert, "id" | "blobKey" | "status" | "sizeBytes">;

/**
 * Stores a document's bytes, inserts it as `queued` and enqueues its ingestion, audited, in one
 * transaction. If the row does not land, the stored bytes are removed: nothing half-written.
 */
async function storeAndQueue(
  ctx: Ctx,
  document: NewDocument,
  bytes: Uint8Array,
  action: string,
): Promise<Document> {
  const { db, blobs } = ctx.services;
  const id = newId("document");
  const key = blobKeyOf(document.tenantId, id);
  await blobs.put(key, bytes, document.contentType ? { contentType: document.contentType } : {});
  try {
    const row = await db.transaction(async (tx) => {
      await holdRoomFor(tx, document.tenantId, 1);
      const [inserted] = await tx
        .insert(documents)
        .values({ ...document, id, blobKey: key, sizeBytes: bytes.length, status: "queued" })
        .returning();
      await enqueueIngestion(ctx, tx, inserted!);
      await recordAudit({ ctx, db: tx, input: { tenantId: document.tenantId, action, targetId: id } });
      return inserted!;
    });
    ctx.services.jobs.nudge();
    return toDocument(row, { done: 0, total: 0 });
  } catch (error) {
    await blobs.delete(key).catch(() => {});
    throw error;
  }
}

/** `POST /api/v1/docs`: text or a JSON value, stored and queued for ingestion in one step. */
export async function createTextDocument({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: CreateTextDocumentInput;
}): Promise<Document> {
  const data = CreateTextDocumentInput.parse(input);
  requireTenantScope(ctx.principal, data.tenantId, "write");
  const isJson = data.json !== undefined;
  const bytes = new TextEncoder().encode(isJson ? JSON.stringify(data.json, null, 2) : data.text!);
  await assertCanAddDocument(ctx.services.db, data.tenantId, bytes.length);
  await assertQueueHasRoom(ctx, data.tenantId);
  const chunking = await chunkingFor(ctx.services.db, data);
  return storeAndQueue(
    ctx,
    {
      tenantId: data.tenantId,
      collection: data.collection,
      title: data.title,
      filename: isJson ? "document.json" : "document.txt",
      contentType: isJson ? "application/json" : "text/plain",
      source: isJson ? "json" : "text",
      ...chunking,
      metadata: data.metadata,
    },
    bytes,
    "document.create",
  );
}
