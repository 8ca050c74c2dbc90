import { AppError } from "@vdb/http/errors";
import type { Scope } from "@vdb/schemas/auth";
import { CHROMA_NAMESPACE, RESTORE_WRITE_HEADER } from "@vdb/schemas/chroma-api";
import type { InstanceAddress } from "../data-plane/instance-client";
import type { Ctx } from "../lib/context";

/**
 * A tenant's Chroma, reached through its instance's Chroma passthrough (`/chroma/api/v2/…`) with
 * an instance token, as the Chroma gateway does: the instance keeps its keyword index and its
 * record quota in step with every write made here (but a restore's upserts: see upsert).
 */
export interface ChromaCollectionInfo {
  id: string;
  name: string;
  metadata: Record<string, string | number | boolean | null> | null;
  configuration: Record<string, unknown> | null;
}

export interface ChromaPage {
  ids: string[];
  embeddings: number[][];
  documents: (string | null)[];
  metadatas: (Record<string, string | number | boolean | null> | null)[];
}

/** Collections a restore is writing into; never part of a backup. */
export const STAGING_PREFIX = "vdb-restore-";

export class TenantChroma {
  /** `at`: this instance's copy of the tenant's namespace rather than the serving one (a tier move's). */
  constructor(
    private readonly ctx: Ctx,
    readonly tenantId: string,
    private readonly at?: InstanceAddress,
  ) {}

  private async call<T>(
    scope: Scope,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T> {
    const answer = await this.ctx.services.instances.open(this.ctx, {
      tenantId: this.tenantId,
      scope,
      method,
      path: `/chroma${CHROMA_NAMESPACE}${path}`,
      ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
      ...(this.at ? { at: this.at } : {}),
      ...(headers ? { headers } : {}),
    });
    const pieces: Buffer[] = [];
    for await (const piece of answer.body) pieces.push(piece as Buffer);
    const text = Buffer.concat(pieces).toString("utf8");
    if (answer.status >= 400) {
      throw new AppError({
        code:
          answer.status === 404 ? "NOT_FOUND" : answer.status < 500 ? "BAD_REQUEST" : "SERVICE_UNAVAILABLE",
        message: `Chroma ${method} ${path} answered ${answer.status}: ${text.slice(0, 500)}`,
      });
    }
    return (text ? JSON.parse(text) : null) as T;
  }

  async listCollections(): Promise<ChromaCollectionInfo[]> {
    const all: ChromaCollectionInfo[] = [];
    const limit = 100;
    for (let offset = 0; ; offset += limit) {
      const page = await this.call<
        {
          id: string;
          name: string;
          metadata: ChromaCollectionInfo["metadata"];
          configuration_json?: Record<string, unknown> | null;
        }[]
      >("read", "GET", `/collections?limit=${limit}&offset=${offset}`);
      for (const collection of page) {
        all.push({
          id: collection.id,
          name: collection.name,
          metadata: collection.metadata ?? null,
          configuration: collection.configuration_json ?? null,
        });
      }
      if (page.length < limit) return all;
    }
  }

  count(collectionId: string): Promise<number> {
    return this.call<number>("read", "GET", `/collections/${collectionId}/count`);
  }

  /** Records `offset`…`offset + limit` in Chroma's own order, with everything a restore needs. */
  async getPage(collectionId: string, offset: number, limit: number): Promise<ChromaPage> {
    const page = await this.call<Partial<ChromaPage> & { ids: string[] }>(
      "read",
      "POST",
      `/collections/${collectionId}/get`,
      { limit, offset, include: ["embeddings", "documents", "metadatas"] },
    );
    return {
      ids: page.ids,
      embeddings: page.embeddings ?? [],
      documents: page.documents ?? page.ids.map(() => null),
      metadatas: page.metadatas ?? page.ids.map(() => null),
    };
  }

  createCollection(
    name: string,
    metadata: ChromaCollectionInfo["metadata"],
    configuration: ChromaCollectionInfo["configuration"],
  ): Promise<ChromaCollectionInfo> {
    return this.call<ChromaCollectionInfo>("write", "POST", "/collections", {
      name,
      ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}),
      ...(configuration ? { configuration: chromaCreateConfiguration(configuration) } : {}),
      get_or_create: true,
    });
  }

  /**
   * Upserts a page. `asRestoreWrite` (a restore's upserts into its staging collection) sends it as
   * a restore write (RESTORE_WRITE_HEADER): the instance skips its per-write quota check, so **the
   * caller checks the quota** for all it writes (see assertRestoreFits), and its keyword index
   * takes the documents sent instead of reading them back.
   */
  async upsert(
    collectionId: string,
    page: ChromaPage,
    opts: { asRestoreWrite?: boolean } = {},
  ): Promise<void> {
    if (page.ids.length === 0) return;
    await this.call(
      "write",
      "POST",
      `/collections/${collectionId}/upsert`,
      // Embeddings last: the instance reads a restore write's ids and documents without scanning them.
      { ids: page.ids, documents: page.documents, metadatas: page.metadatas, embeddings: page.embeddings },
      opts.asRestoreWrite ? { [RESTORE_WRITE_HEADER]: "1" } : undefined,
    );
  }

  async deleteRecords(collectionId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.call("write", "POST", `/collections/${collectionId}/delete`, { ids });
  }

  async deleteCollection(name: string): Promise<void> {
    await this.call("write", "DELETE", `/collections/${encodeURIComponent(name)}`);
  }

  async renameCollection(collectionId: string, newName: string): Promise<void> {
    await this.call("write", "PUT", `/collections/${collectionId}`, { new_name: newName });
  }
}

/**
 * What Chroma's create accepts of a configuration it reported: the HNSW space (the only setting
 * VDB sets) and the rest of the HNSW parameters; the embedding function is left out (VDB embeds).
 */
function chromaCreateConfiguration(configuration: Record<string, unknown>): Record<string, unknown> {
  const hnsw = configuration.hnsw;
  return hnsw && typeof hnsw === "object" ? { hnsw } : {};
}
