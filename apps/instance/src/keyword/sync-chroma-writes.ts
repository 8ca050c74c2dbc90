import { CHROMA_NAMESPACE } from "@vdb/schemas/chroma-api";
import { listAllCollections } from "../collections/chroma-collections";
import { type ChromaCollectionRef, getFromChroma } from "../collections/chroma-query";
import type { CachedRow } from "../documents/row-cache";
import type { InstanceServices } from "../services";
import type { KeywordIndex } from "./keyword-index";

type RecordAction = "add" | "upsert" | "update" | "delete";
const RECORD_ACTIONS = new Set<string>(["add", "upsert", "update", "delete"]);

/** `POST …/collections/{id}/add|upsert|update|delete` through Chroma's API: the collection and action, or null. */
export function recordWriteTarget(
  method: string,
  path: string,
): { collectionId: string; action: RecordAction } | null {
  if (method !== "POST" || !path.startsWith(`${CHROMA_NAMESPACE}/collections/`)) return null;
  const [collectionId, action, ...rest] = path.slice(`${CHROMA_NAMESPACE}/collections/`.length).split("/");
  if (!collectionId || rest.length > 0 || !action || !RECORD_ACTIONS.has(action)) return null;
  return { collectionId, action: action as RecordAction };
}

/** A collection of the caller's namespace (its own on a pool), from `/api/v2/tenants/{t}/databases/{d}`. */
function collectionRef(services: InstanceServices, collectionId: string): ChromaCollectionRef {
  const [tenant, database] = services.chromaNamespace.split("/").filter((_, i) => i === 4 || i === 6);
  return { id: collectionId, tenant: decodeURIComponent(tenant!), database: decodeURIComponent(database!) };
}

/**
 * Sends a record write of Chroma's own API (the gateway's) to Chroma and brings the collection's
 * keyword index in step: the ids it names (or, for a delete by filter, those the filter matched
 * before) are read back from Chroma afterwards, which covers every write semantics (add, upsert,
 * update with or without documents, delete) and a write Chroma refused. The caller holds the
 * write lock.
 */
export async function writeThroughKeywordIndex(
  services: InstanceServices,
  target: { collectionId: string; action: RecordAction },
  request: { ids?: string[] | undefined; where?: unknown; where_document?: unknown },
  forward: () => Promise<Response>,
): Promise<Response> {
  const { keywordIndexes } = services;
  const collection = collectionRef(services, target.collectionId);
  const isFiltered = Boolean(request.where || request.where_document);
  if (target.action === "delete" && !request.ids && !isFiltered) {
    // Whatever Chroma makes of a delete naming nothing, a rebuild will agree with it.
    await keywordIndexes.markStale(collection.id);
    return forward();
  }
  let affected: string[] = [];
  return followWrite(
    services,
    collection,
    async () => {
      affected =
        target.action === "delete" && isFiltered
          ? (
              await getFromChroma(services.chromaUrl, collection, {
                ids: request.ids,
                where: request.where,
                whereDocument: request.where_document,
                include: [],
              })
            ).ids
          : (request.ids ?? []);
      return keywordIndexes.beginWrite(collection);
    },
    forward,
    async (index) => {
      await keywordIndexes.syncIds(collection, index, affected);
      return true;
    },
  );
}

/**
 * Sends an upsert whose every record comes with its document and metadata (a restore's, as read
 * from Chroma by the backup) and puts those records into the collection's keyword index and rows
 * as sent: what Chroma holds once it accepted the upsert, so nothing is read back. A refused or
 * failed write leaves the index to a rebuild. The caller holds the write lock.
 */
export function writeKnownDocuments(
  services: InstanceServices,
  collectionId: string,
  records: CachedRow[],
  forward: () => Promise<Response>,
): Promise<Response> {
  const collection = collectionRef(services, collectionId);
  return followWrite(
    services,
    collection,
    () => services.keywordIndexes.beginWrite(collection),
    forward,
    async (index, response) => {
      // Chroma refused it: whatever it kept, a rebuild will agree with it.
      if (!response.ok) return false;
      await services.keywordIndexes.putRecords(collection, index, records);
      return true;
    },
  );
}

/**
 * One write with the collection's keyword index following it: `begin` marks the index as
 * changing (write-ahead), `forward` sends the write to Chroma, `follow` brings the index in step
 * with Chroma's answer (false: it cannot, and the index is left to a rebuild, as after a failure).
 */
async function followWrite(
  services: InstanceServices,
  collection: ChromaCollectionRef,
  begin: () => Promise<KeywordIndex>,
  forward: () => Promise<Response>,
  follow: (index: KeywordIndex, response: Response) => Promise<boolean> | boolean,
): Promise<Response> {
  const { keywordIndexes } = services;
  let index: KeywordIndex;
  try {
    index = await begin();
  } catch {
    // An unknown collection or a filter Chroma refuses: Chroma answers the write itself. Should
    // it write anyway, the index is marked to be rebuilt rather than trusted.
    await keywordIndexes.markStale(collection.id);
    return forward();
  }
  let response: Response;
  let isInStep: boolean;
  try {
    response = await forward();
    isInStep = await follow(index, response);
  } catch (error) {
    keywordIndexes.invalidate(collection);
    throw error;
  }
  if (isInStep) keywordIndexes.written(collection);
  else keywordIndexes.invalidate(collection);
  return response;
}

/** After a collection was deleted through Chroma's API: drops the keyword indexes of every gone collection. */
export async function dropDeletedKeywordIndexes(services: InstanceServices): Promise<void> {
  await services.writeLock.run(async () => {
    const collections = await listAllCollections(services.chroma);
    await services.keywordIndexes.keepOnly(new Set(collections.map((collection) => collection.id)));
  });
}
