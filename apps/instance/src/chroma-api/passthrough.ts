import { Readable } from "node:stream";
import { AppError, validationError } from "@vdb/http/errors";
import { assertCleanJsonBytes, checkedJsonStream } from "@vdb/http/input-hygiene";
import { createUpstreamClient } from "@vdb/http/upstream-client";
import {
  CHROMA_NAMESPACE,
  chromaScope,
  chromaWriteTarget,
  RESTORE_WRITE_HEADER,
} from "@vdb/schemas/chroma-api";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { forgetCollection } from "../collections/chroma-collections";
import { assertWithinQuota } from "../documents/quota";
import type { CachedRow } from "../documents/row-cache";
import type { InstanceEnv } from "../http/env";
import { CONTROL_PLANE_SUBJECT, requireScope } from "../http/require-scope";
import {
  dropDeletedKeywordIndexes,
  recordWriteTarget,
  writeKnownDocuments,
  writeThroughKeywordIndex,
} from "../keyword/sync-chroma-writes";
import { persistEveryWrite } from "../pool/tenant-scopes";
import type { InstanceServices } from "../services";
import { topLevelFields } from "./top-level-fields";

const PREFIX = "/chroma";
const WriteBody = z.object({ ids: z.array(z.string().min(1)).min(1) });
const RecordWriteFields = z.object({
  ids: z.array(z.string()).optional().catch(undefined),
  where: z.unknown().optional(),
  where_document: z.unknown().optional(),
});
/**
 * A restore's upsert into its new staging collection: every record with its document and
 * metadata (null: none) as the backup read them from Chroma, which the keyword index and its
 * rows take as they are.
 */
const RestoreWriteBody = z
  .object({
    ids: z.array(z.string().min(1)).min(1),
    documents: z.array(z.string().nullable()),
    metadatas: z.array(z.record(z.string(), z.unknown()).nullable()).optional(),
  })
  .refine((body) => body.documents.length === body.ids.length, {
    message: "documents must have one entry per id",
    path: ["documents"],
  })
  .refine((body) => !body.metadatas || body.metadatas.length === body.ids.length, {
    message: "metadatas must have one entry per id",
    path: ["metadatas"],
  });
/** Chroma 1.0 answers n_results 0 with nothing found; its clients call 0 invalid, and so do we. */
const QueryBody = z.object({
  n_results: z.number().int().min(1, { message: "must be at least 1" }).optional(),
});
// Long enough for Chroma to index a 40 MiB batch on a busy machine; it covers the wait for
// Chroma's answer to begin, not the streaming of either body.
const CHROMA_TIMEOUT_MS = 120_000;
const chromaHttp = createUpstreamClient({ maxSockets: 32, timeoutMs: CHROMA_TIMEOUT_MS });

/** Which of `ids` a collection already holds, asked of Chroma directly. */
async function presentIds(
  services: InstanceServices,
  collectionId: string,
  ids: string[],
): Promise<Set<string>> {
  const response = await fetch(
    `${services.chromaUrl}${services.chromaNamespace}/collections/${collectionId}/get`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ids, include: [] }),
    },
  );
  if (!response.ok) return new Set(); // an unknown collection: Chroma will answer the write itself
  const found = (await response.json()) as { ids?: string[] };
  return new Set(found.ids ?? []);
}

/**
 * The top-level `names` of a JSON body, parsed, checked by `schema`; the rest is left for Chroma
 * (see topLevelFields). Refused as Chroma's parser would refuse it, before Chroma sees it.
 */
function parseFields<T>(body: Buffer, names: readonly string[], schema: z.ZodType<T>): T {
  const fields = topLevelFields(body, names);
  if (!fields) throw new AppError({ code: "BAD_REQUEST", message: "The request body must be a JSON object" });
  const values: Record<string, unknown> = {};
  for (const [name, text] of fields) {
    try {
      values[name] = JSON.parse(text);
    } catch {
      throw new AppError({ code: "BAD_REQUEST", message: `Malformed JSON in the request body's ${name}` });
    }
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

/**
 * Chroma's own API (v2), for the control plane's Chroma-compatible gateway: the same instance
 * token and scopes as every other route, the same allow-list as the gateway, and MAX_DOCS
 * enforced on `add`/`upsert` before Chroma sees them (but for a restore's own upserts, see
 * isRestoreWrite). Record writes keep the keyword index in step (under the write lock).
 * Everything else goes to Chroma as is.
 *
 * Bodies are streamed to Chroma and answers streamed back. Only `add`/`upsert` (whose ids the
 * quota counts) and `query` (whose n_results is checked) are held, once, as the bytes that
 * came; neither is parsed whole.
 */
export const chromaPassthrough = new Hono<InstanceEnv>().all(`${PREFIX}/api/v2/*`, async (c) => {
  const path = c.req.path.slice(PREFIX.length);
  const scope = chromaScope(c.req.method, path);
  if (!scope) {
    throw new AppError({
      code: "FORBIDDEN",
      message: `${c.req.method} ${path} is not offered by this instance`,
    });
  }
  let response: Response | undefined;
  await requireScope(scope)(c, async () => {
    response = await passOn(c, path);
  });
  return response!;
});

/** The Chroma call, in the caller's namespace, once its token and scope were checked. */
async function passOn(c: Context<InstanceEnv>, path: string): Promise<Response> {
  const services = c.get("services");
  await assertOwnCollection(services, path);
  const url = `${services.chromaUrl}${inNamespace(services, path)}${new URL(c.req.url).search}`;

  // A collection deleted or changed through Chroma's API: drop the handles the routes cache.
  if (c.req.method === "DELETE" || c.req.method === "PUT") forgetCollection(services.chroma);
  const target = chromaWriteTarget(c.req.method, path);
  if (c.req.method === "POST" && path.endsWith("/query")) {
    const body = Buffer.from(await c.req.arrayBuffer());
    assertCleanJsonBytes(body);
    parseFields(body, ["n_results"], QueryBody);
    return forwardToChroma(c, url, body);
  }
  const recordWrite = recordWriteTarget(c.req.method, path);
  if (!recordWrite) {
    const streamed = streamedBody(c);
    const response = await forwardToChroma(c, url, streamed).catch((error: unknown) => {
      // A flaw found mid-stream cut the body off: Chroma never had all of it.
      throw streamed?.flaw() ?? error;
    });
    if (c.req.method === "DELETE") await dropDeletedKeywordIndexes(services);
    // A pool's collections must persist every write, whatever configuration the caller gave.
    const isCreateOrChange = c.req.method === "POST" || c.req.method === "PUT";
    if (services.poolTenants && isCreateOrChange && response.ok && describesCollections(path)) {
      await persistEveryWrite(services.chroma);
    }
    return services.ownsCollection && describesCollections(path) ? asSeenByCaller(response) : response;
  }
  const body = Buffer.from(await c.req.arrayBuffer());
  assertCleanJsonBytes(body);
  if (target?.action === "upsert" && isRestoreWrite(c)) {
    const { ids, documents, metadatas } = parseFields(
      body,
      ["ids", "documents", "metadatas"],
      RestoreWriteBody,
    );
    const records = ids.map((id, i) => ({
      id,
      document: documents[i] ?? null,
      metadata: (metadatas?.[i] ?? null) as CachedRow["metadata"],
    }));
    return services.writeLock.run(() =>
      writeKnownDocuments(services, target.collectionId, records, () => forwardToChroma(c, url, body)),
    );
  }
  const ids = target ? parseFields(body, ["ids"], WriteBody).ids : [];
  // What the keyword index needs to follow the write: its ids or filters, read without a full parse.
  const request = parseFields(body, ["ids", "where", "where_document"], RecordWriteFields);
  return services.writeLock.run(async () => {
    if (target) {
      const present = await presentIds(services, target.collectionId, ids);
      await assertWithinQuota(services, ids.filter((id) => !present.has(id)).length);
    }
    return writeThroughKeywordIndex(services, recordWrite, request, () => forwardToChroma(c, url, body));
  });
}

/**
 * The control plane's restore writing a staging collection (RESTORE_WRITE_HEADER with its own
 * token): it checked the quota once for the whole backup, so the batch skips the per-write
 * check (which would also count the tenant's current data, replaced at the swap). The
 * gateway's calls carry a control-plane token too but never this header; a caller's own
 * token cannot claim it.
 */
function isRestoreWrite(c: Context<InstanceEnv>): boolean {
  return c.req.header(RESTORE_WRITE_HEADER) === "1" && c.get("identity")?.subject === CONTROL_PLANE_SUBJECT;
}

/**
 * A path of the caller's view of Chroma (the gateway's `default_tenant/default_database`) in its
 * actual namespace: the same on a dedicated instance, the tenant's own on a pool.
 */
function inNamespace(services: InstanceServices, path: string): string {
  if (services.chromaNamespace === CHROMA_NAMESPACE || !path.startsWith(`${CHROMA_NAMESPACE}/`)) return path;
  return `${services.chromaNamespace}${path.slice(CHROMA_NAMESPACE.length)}`;
}

/** `…/collections`, `…/collections/{x}` and `…/collections/{x}/fork`: answers describing collections. */
function describesCollections(path: string): boolean {
  if (!path.startsWith(`${CHROMA_NAMESPACE}/collections`)) return false;
  const rest = path.slice(`${CHROMA_NAMESPACE}/collections`.length).split("/").filter(Boolean);
  return rest.length <= 1 || (rest.length === 2 && rest[1] === "fork");
}

/**
 * A pool's collection descriptions name the tenant's real namespace; Chroma's clients build the
 * paths of later calls from them, so they are shown as the gateway's `default_tenant` /
 * `default_database`, which is what the caller asked for.
 */
async function asSeenByCaller(response: Response): Promise<Response> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Response(text, { status: response.status, headers: response.headers });
  }
  const renamed = (value: unknown): unknown =>
    value && typeof value === "object" && "tenant" in value && "database" in value
      ? { ...value, tenant: "default_tenant", database: "default_database" }
      : value;
  const shown = Array.isArray(body) ? body.map(renamed) : renamed(body);
  return new Response(JSON.stringify(shown), { status: response.status, headers: response.headers });
}

/**
 * On a pool, a path naming a collection (`…/collections/{id or name}/…`) must name one of the
 * caller's own: Chroma resolves ids whatever namespace the path says. Unknown ones are 404, as
 * Chroma answers a collection that does not exist, so a neighbour's ids cannot be probed.
 */
async function assertOwnCollection(services: InstanceServices, path: string): Promise<void> {
  if (!services.ownsCollection || !path.startsWith(`${CHROMA_NAMESPACE}/collections/`)) return;
  const rest = path.slice(`${CHROMA_NAMESPACE}/collections/`.length).split("/").filter(Boolean);
  if (rest[0] === "by-id") rest.shift();
  const named = rest[0] === undefined ? undefined : decodeURIComponent(rest[0]);
  if (named === undefined || (await services.ownsCollection(named))) return;
  throw new AppError({ code: "NOT_FOUND", message: `Collection [${named}] does not exist` });
}

/**
 * The request's body as a stream, with its length when the caller gave one; none for GET/HEAD.
 * Held to the input rules as it passes: at its first flaw it fails, and `flaw` says which.
 */
function streamedBody(
  c: Context<InstanceEnv>,
): { body: Readable; length?: string; flaw: () => AppError | null } | undefined {
  if (c.req.method === "GET" || c.req.method === "HEAD" || !c.req.raw.body) return undefined;
  const length = c.req.header("content-length");
  const checked = checkedJsonStream(
    Readable.fromWeb(c.req.raw.body as import("node:stream/web").ReadableStream),
  );
  return { body: checked.stream, flaw: checked.flaw, ...(length === undefined ? {} : { length }) };
}

/** One call to Chroma with `body`, its answer streamed back with Chroma's status. */
async function forwardToChroma(
  c: Context<InstanceEnv>,
  url: string,
  body: Buffer | { body: Readable; length?: string } | undefined,
): Promise<Response> {
  const isStream = body !== undefined && !Buffer.isBuffer(body);
  const answer = await chromaHttp
    .open(url, {
      method: c.req.method,
      headers: {
        "content-type": "application/json",
        ...(isStream && body.length !== undefined ? { "content-length": body.length } : {}),
      },
      ...(body === undefined ? {} : { body: isStream ? body.body : body }),
    })
    .catch((error: unknown) => {
      throw new AppError({
        code: "SERVICE_UNAVAILABLE",
        message: "This instance's Chroma did not answer",
        cause: error,
      });
    });
  return new Response(Readable.toWeb(answer.body) as ReadableStream, {
    status: answer.status,
    headers: { "content-type": answer.contentType ?? "application/json" },
  });
}
