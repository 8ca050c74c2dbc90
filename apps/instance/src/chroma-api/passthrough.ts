import { AppError, validationError } from "@vdb/http/errors";
import { CHROMA_NAMESPACE, chromaScope, chromaWriteTarget } from "@vdb/schemas/chroma-api";
import { Hono } from "hono";
import { z } from "zod";
import { forgetCollection } from "../collections/chroma-collections";
import { assertWithinQuota } from "../documents/quota";
import type { InstanceEnv } from "../http/env";
import { requireScope } from "../http/require-scope";
import type { InstanceServices } from "../services";

const PREFIX = "/chroma";
const WriteIds = z.looseObject({ ids: z.array(z.string().min(1)).min(1) });

/** Which of `ids` a collection already holds, asked of Chroma directly. */
async function presentIds(
  services: InstanceServices,
  collectionId: string,
  ids: string[],
): Promise<Set<string>> {
  const response = await fetch(`${services.chromaUrl}${CHROMA_NAMESPACE}/collections/${collectionId}/get`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ids, include: [] }),
  });
  if (!response.ok) return new Set(); // an unknown collection: Chroma will answer the write itself
  const found = (await response.json()) as { ids?: string[] };
  return new Set(found.ids ?? []);
}

/**
 * Chroma's own API (v2), for the control plane's Chroma-compatible gateway: the same instance
 * token and scopes as every other route, the same allow-list as the gateway, and MAX_DOCS
 * enforced on `add`/`upsert` before Chroma sees them. Everything else goes to Chroma as is.
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
  await requireScope(scope)(c, async () => {});
  const services = c.get("services");
  const body = c.req.method === "GET" || c.req.method === "HEAD" ? undefined : await c.req.text();
  const forward = async () => {
    const response = await fetch(`${services.chromaUrl}${path}${new URL(c.req.url).search}`, {
      method: c.req.method,
      headers: { "content-type": "application/json" },
      ...(body ? { body } : {}),
    }).catch(() => {
      throw new AppError({ code: "SERVICE_UNAVAILABLE", message: "This instance's Chroma did not answer" });
    });
    return new Response(response.body, {
      status: response.status,
      headers: { "content-type": response.headers.get("content-type") ?? "application/json" },
    });
  };

  // A collection deleted or changed through Chroma's API: drop the handles the routes cache.
  if (c.req.method === "DELETE" || c.req.method === "PUT") forgetCollection(services.chroma);
  const target = chromaWriteTarget(c.req.method, path);
  if (!target) return forward();
  let ids: string[];
  try {
    const parsed = WriteIds.safeParse(JSON.parse(body ?? ""));
    if (!parsed.success) throw validationError(parsed.error);
    ids = parsed.data.ids;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError({ code: "BAD_REQUEST", message: "Malformed JSON in request body" });
  }
  return services.writeLock.run(async () => {
    const present = await presentIds(services, target.collectionId, ids);
    await assertWithinQuota(services, ids.filter((id) => !present.has(id)).length);
    return forward();
  });
});
