import { type Document, DocumentRef } from "@vdb/schemas/documents";
import { requireTenantScope } from "../auth/authorize";
import type { JobSnapshot } from "../jobs/schemas";
import type { Ctx } from "../lib/context";
import { watchChanges } from "../lib/watch-changes";
import { findDocumentOrThrow, ingestionProgress, toDocument } from "./to-document";

/**
 * Yields the document now and whenever its ingestion moves (progress, status), until it is ready
 * or failed or `signal` aborts. This process's worker reports at once; a poll catches others'.
 */
export async function* watchDocument({
  ctx,
  input,
  signal,
}: {
  ctx: Ctx;
  input: DocumentRef;
  signal?: AbortSignal;
}): AsyncGenerator<Document> {
  const { tenantId, documentId } = DocumentRef.parse(input);
  requireTenantScope(ctx.principal, tenantId, "read");
  const { db, jobs } = ctx.services;
  yield* watchChanges({
    read: async () => {
      const row = await findDocumentOrThrow(db, tenantId, documentId);
      return toDocument(row, await ingestionProgress(db, documentId));
    },
    subscribe: (notify) => {
      const onJob = (job: JobSnapshot) => {
        if (job.payload.documentId === documentId) notify();
      };
      jobs.on("progress", onJob);
      jobs.on("finished", onJob);
      return () => {
        jobs.off("progress", onJob);
        jobs.off("finished", onJob);
      };
    },
    key: (document) =>
      `${document.status}|${document.progress?.done}|${document.progress?.total}|${document.updatedAt}`,
    isDone: (document) => document.status === "ready" || document.status === "failed",
    ...(signal ? { signal } : {}),
  });
}
