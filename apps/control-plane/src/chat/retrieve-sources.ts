import { AppError } from "@vdb/http/errors";
import type { Citation } from "@vdb/schemas/chat";
import { DocumentId } from "@vdb/schemas/ids";
import {
  DEFAULT_COLLECTION,
  type SearchHit,
  type SearchMode,
  type SearchRequest,
  SearchResponse,
} from "@vdb/schemas/instances";
import { instanceRefusal } from "../data-plane/instance-answer";
import { parseReply } from "../data-plane/instance-client";
import { searchInstance } from "../data-plane/search-tenant";
import { databaseSearchMode } from "../databases/to-database";
import type { Ctx } from "../lib/context";

/** A retrieved passage offered to the answer as `[n]` (n = its rank, from 1). */
export interface Source extends Citation {
  /** The whole passage. */
  text: string;
}

const SNIPPET_CHARS = 240;

function snippetOf(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= SNIPPET_CHARS ? flat : `${flat.slice(0, SNIPPET_CHARS - 1).trimEnd()}…`;
}

const asString = (value: unknown) => (typeof value === "string" && value !== "" ? value : null);
const asInteger = (value: unknown) => (typeof value === "number" && Number.isInteger(value) ? value : null);

/**
 * The `nResults` passages best matching the question in the tenant's instance, best first, as
 * numbered sources. A tenant with no documents yet (no default collection) has no sources; any
 * other refusal of the instance is raised with its own code and message.
 */
export async function retrieveSources(
  ctx: Ctx,
  input: {
    tenantId: string;
    query: string;
    collection: string;
    nResults: number;
    /** Default: the mode of the named database owning the collection, else hybrid. */
    mode?: SearchMode | undefined;
    where?: unknown;
    /** Whether this retrieval is metered as a search (a query) or is part of something metered otherwise (a chat message). */
    metered: boolean;
  },
): Promise<Source[]> {
  const mode =
    input.mode ?? (await databaseSearchMode(ctx.services.db, input.tenantId, input.collection)) ?? "hybrid";
  const reply = await searchInstance(ctx, {
    tenantId: input.tenantId,
    request: {
      collection: input.collection,
      query: input.query,
      mode,
      nResults: input.nResults,
      ...(input.where === undefined ? {} : { where: input.where as SearchRequest["where"] }),
      include: ["documents", "metadatas", "distances"],
    },
    metered: input.metered,
  });
  const result = parseReply(reply);
  if (result.status === 404 && input.collection === DEFAULT_COLLECTION) return [];
  if (result.status >= 400) throw instanceRefusal(result.status, result.body);
  const parsed = SearchResponse.safeParse(result.body);
  if (!parsed.success) {
    throw new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: "The tenant's instance gave an unreadable answer",
    });
  }
  const bestScore = Math.max(...parsed.data.results.map((hit) => hit.score));
  return parsed.data.results
    .filter((hit) => typeof hit.document === "string" && hit.document.trim() !== "")
    .map((hit, rank) => {
      const metadata = hit.metadata ?? {};
      const documentId = DocumentId.safeParse(metadata.documentId);
      const text = hit.document as string;
      return {
        n: rank + 1,
        // Records a tenant upserted through `/embed` are no document: they cite their own id.
        documentId: documentId.success ? documentId.data : null,
        chunkId: hit.id,
        title: asString(metadata.title) ?? hit.id,
        page: asInteger(metadata.page),
        heading: asString(metadata.heading),
        snippet: snippetOf(text),
        score: citationScore(hit, bestScore),
        text,
      };
    });
}

/**
 * How well a passage matches the question, on one scale whatever the mode: its similarity to the
 * question (vector and hybrid search give every hit one), or in keyword mode, which never embeds
 * the question, its BM25 score relative to the best passage's (1 for the best).
 */
function citationScore(hit: SearchHit, bestScore: number): number {
  if (typeof hit.vectorScore === "number") return hit.vectorScore;
  return bestScore > 0 ? hit.score / bestScore : 0;
}

/** A source as the answer's citation `n` (sources are renumbered to the order they are cited in). */
export function toCitation(source: Source, n: number): Citation {
  const { text: _text, ...citation } = source;
  return { ...citation, n };
}
