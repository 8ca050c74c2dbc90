import { Readable } from "node:stream";
import { limitBodySize } from "@vdb/http/app-defaults";
import { AppError, retryAfterOf, toAppError } from "@vdb/http/errors";
import { assertCleanJsonBytes, assertCleanRequestLine, checkedJsonStream } from "@vdb/http/input-hygiene";
import type { UpstreamStream } from "@vdb/http/upstream-client";
import { chromaScope } from "@vdb/schemas/chroma-api";
import { PLANS } from "@vdb/schemas/plans";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { authenticate, credentialFrom } from "../auth/authenticate";
import type { AppEnv } from "../http/env";
import { ctxOf } from "../http/env";
import { planFromStore, rateLimitError, rateLimitHeaders } from "../usage/rate-limit";
import { instanceErrorAsChroma, toChromaError } from "./chroma-errors";
import { safeMaxBatchSize } from "./pre-flight";

/** Everything under it is the gateway's, with its own body limit and error shape. */
export const CHROMA_GATEWAY_PREFIX = "/api/v2/";
const PRE_FLIGHT_PATH = "/api/v2/pre-flight-checks";
/**
 * Bodies up to this size are read whole before they are sent on, so a refused cached instance
 * token can be retried with the same bytes; larger ones are streamed (see InstanceClient.open).
 */
const BUFFERED_BODY_BYTES = 64 * 1024;

/**
 * A Chroma-compatible API at `/api/v2`, so the stock `chromadb` client works unchanged:
 * `new ChromaClient({ path: "<control plane>", headers: { "x-chroma-token": "<VDB API key>" } })`.
 *
 * Every tenant has its own Chroma, so the gateway only maps the key to that tenant's instance;
 * a key can never name another tenant's data. Inside it, the Chroma namespace is fixed
 * (`default_tenant` / `default_database`); creating Chroma tenants or databases, and `reset`,
 * are refused.
 *
 * Bodies of up to `GATEWAY_MAX_BODY_BYTES` (Chroma's own 40 MiB by default) are streamed to the
 * instance and answers streamed back. Every error VDB makes here is in Chroma's shape and status
 * (see toChromaError), so the clients raise their matching exception with VDB's message.
 */
export function chromaGateway(opts: { maxBodyBytes: number }) {
  const gateway = new Hono<AppEnv>();
  gateway.use("/api/v2/*", limitBodySize(opts.maxBodyBytes));
  gateway.all("/api/v2/*", async (c) => {
    const services = c.get("services");
    // `Authorization: Bearer` wins over `x-chroma-token` when both are sent (the README says so).
    const credential = credentialFrom({
      authorization: c.req.header("authorization"),
      apiKey: c.req.header("x-chroma-token") ?? c.req.header("x-api-key"),
    });
    const principal = await authenticate(services, credential);
    if (principal?.kind !== "apiKey") {
      throw new AppError({
        code: "UNAUTHORIZED",
        message: "The Chroma gateway needs a VDB API key in the x-chroma-token header",
      });
    }
    c.set("principal", principal);
    const verdict = await services.rateLimits(principal, services);
    if (verdict) for (const [name, value] of Object.entries(rateLimitHeaders(verdict))) c.header(name, value);
    if (verdict && !verdict.isAllowed) throw rateLimitError(verdict);
    const path = c.req.path;
    if (path === "/api/v2/auth/identity" && c.req.method === "GET") {
      return c.json({ user_id: principal.keyId, tenant: "default_tenant", databases: ["default_database"] });
    }
    const scope = chromaScope(c.req.method, path);
    if (!scope) {
      throw new AppError({
        code: "FORBIDDEN",
        message: `${c.req.method} ${path} is not available through the VDB gateway (each tenant has one Chroma namespace)`,
      });
    }
    assertCleanRequestLine(path, c.req.url);
    const { flaw, ...body } = await requestBody(c);
    let answer: UpstreamStream;
    try {
      answer = await services.instances.open(ctxOf(c), {
        tenantId: principal.tenantId,
        scope,
        method: c.req.method,
        path: `/chroma${path}${new URL(c.req.url).search}`,
        isSearch: c.req.method === "POST" && path.endsWith("/query"),
        ...body,
      });
    } catch (error) {
      // A flaw found mid-stream cut the body off, so the instance never had all of it.
      throw flaw?.() ?? error;
    }
    const contentType = answer.contentType ?? "application/json";
    if (answer.status >= 400) {
      // The instance's "come back in" (rate limit, pool slots, a restart, a tier move) stands.
      if (answer.retryAfter !== undefined) c.header("Retry-After", answer.retryAfter);
      const text = await readAll(answer.body);
      const translated = instanceErrorAsChroma(text);
      if (translated) return c.json(translated.body, translated.status as ContentfulStatusCode);
      return c.body(text, answer.status as ContentfulStatusCode, { "content-type": contentType });
    }
    if (path === PRE_FLIGHT_PATH) {
      const checks = JSON.parse(await readAll(answer.body)) as { max_batch_size?: number };
      const plan = await planFromStore(services.db)(principal.tenantId);
      return c.json({
        ...checks,
        max_batch_size: safeMaxBatchSize({
          chromaMaxBatchSize: checks.max_batch_size ?? Number.POSITIVE_INFINITY,
          maxBodyBytes: opts.maxBodyBytes,
          planMaxRecords: plan ? PLANS[plan].maxRecords : null,
        }),
      });
    }
    return c.body(Readable.toWeb(answer.body) as ReadableStream, answer.status as ContentfulStatusCode, {
      "content-type": contentType,
    });
  });
  gateway.onError((error, c) => {
    const { status, body } = toChromaError(error);
    if (status >= 500) c.get("logger").error({ err: error }, "Chroma gateway request failed");
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== null) c.header("Retry-After", String(retryAfter));
    if (toAppError(error).code === "PAYLOAD_TOO_LARGE") {
      body.message = `${body.message}: send smaller batches (GET ${PRE_FLIGHT_PATH} gives a safe max_batch_size)`;
    }
    return c.json(body, status as ContentfulStatusCode);
  });
  return gateway;
}

/**
 * The request's body: none, bytes in hand when small, else a stream (with its length when
 * known). Either is held to the input rules (see `@vdb/schemas/input-hygiene`) without a parse:
 * bytes in hand at once, a stream as it passes, failing at its first flaw (`flaw` says which).
 */
async function requestBody(
  c: Context<AppEnv>,
): Promise<{ body?: Buffer | Readable; contentLength?: number; flaw?: () => AppError | null }> {
  if (c.req.method === "GET" || c.req.method === "HEAD" || !c.req.raw.body) return {};
  const header = c.req.header("content-length");
  const length = header === undefined ? undefined : Number.parseInt(header, 10);
  if (length !== undefined && length <= BUFFERED_BODY_BYTES) {
    const bytes = Buffer.from(await c.req.arrayBuffer());
    assertCleanJsonBytes(bytes);
    return { body: bytes };
  }
  const checked = checkedJsonStream(
    Readable.fromWeb(c.req.raw.body as import("node:stream/web").ReadableStream),
  );
  return {
    body: checked.stream,
    flaw: checked.flaw,
    ...(length === undefined ? {} : { contentLength: length }),
  };
}

async function readAll(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString("utf8");
}
