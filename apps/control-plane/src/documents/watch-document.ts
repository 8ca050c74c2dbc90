import { type Document, DocumentRef } from "@vdb/schemas/documents";
import { requireTenantScope } from "../auth/authorize";
import type { JobSnapshot } from "../jobs/schemas";
import type { Ctx } from "../lib/context";
import { findDocumentOrThrow, ingestionProgress, toDocument } from "./to-document";

const POLL_MS = 1_000;

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
  let wake: (() => void) | null = null;
  const onJob = (job: JobSnapshot) => {
    if (job.payload.documentId === documentId) wake?.();
  };
  const onAbort = () => wake?.();
  jobs.on("progress", onJob);
  jobs.on("finished", onJob);
  signal?.addEventListener("abort", onAbort);
  try {
    let last = "";
    while (!signal?.aborted) {
      const row = await findDocumentOrThrow(db, tenantId, documentId);
      const document = toDocument(row, await ingestionProgress(db, documentId));
      const key = `${document.status}|${document.progress?.done}|${document.progress?.total}|${document.updatedAt}`;
      if (key !== last) {
        last = key;
        yield document;
      }
      if (document.status === "ready" || document.status === "failed") return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, POLL_MS).unref();
      });
      wake = null;
    }
  } finally {
    jobs.off("progress", onJob);
    jobs.off("finished", onJob);
    signal?.removeEventListener("abort", onAbort);
  }
}
