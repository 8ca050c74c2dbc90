import { AppError } from "@vdb/http/errors";
import { countAllDocuments } from "../collections/chroma-collections";
import type { InstanceServices } from "../services";

/**
 * MAX_DOCS: passes when `added` new records fit beside those stored across every collection
 * (records: Chroma's entries, a document's chunks each one; the control plane's plan calls it
 * `maxRecords`, apart from `maxDocuments`, the documents it ingests).
 * Callers hold the write lock, so the count cannot change between this check and their write.
 */
export async function assertWithinQuota(ctx: InstanceServices, added: number): Promise<void> {
  const { documents } = await countAllDocuments(ctx.chroma);
  if (documents + added > ctx.config.MAX_DOCS) {
    throw new AppError({
      code: "QUOTA_EXCEEDED",
      message:
        `This instance holds ${documents} of at most ${ctx.config.MAX_DOCS} records (plan ${ctx.config.PLAN}); ` +
        `${added} new ones would exceed that. Nothing was written.`,
    });
  }
}
