import { trpcServer } from "@hono/trpc-server";
import { OpenAPIHono } from "@hono/zod-openapi";
import { answerErrorsAsJson, limitBodySize, serveApiDocs } from "@vdb/http/app-defaults";
import { retryAfterOf } from "@vdb/http/errors";
import { rejectUncleanInput } from "@vdb/http/input-hygiene";
import type { Principal } from "@vdb/schemas/auth";
import { PLANS } from "@vdb/schemas/plans";
import { auditRest } from "./audit/rest";
import { authenticate, credentialFrom } from "./auth/authenticate";
import { authRest } from "./auth/rest";
import { backupImportRoute, backupsRest, IMPORT_PATH } from "./backups/rest";
import { UPLOAD_ROUTE_PREFIX, uploadRoutes } from "./blobs/upload-routes";
import { chatRest } from "./chat/rest";
import { serveConsole } from "./console/serve-console";
import { dataPlaneRest } from "./data-plane/rest";
import { DATABASE_CREATE_PATH, databasesRest, documentSeedCreateRoute } from "./databases/rest";
import { documentFileUploadRoute, documentsRest, MULTIPART_UPLOAD_PATH } from "./documents/rest";
import { CHROMA_GATEWAY_PREFIX, chromaGateway } from "./gateway/chroma-gateway";
import { authenticateRequest } from "./http/authenticate-request";
import { type AppEnv, ctxOf, requestMetaOf } from "./http/env";
import { requestContext } from "./http/request-context";
import { instancesRest } from "./instances/rest";
import { keysRest } from "./keys/rest";
import { pingStore } from "./lib/db/client";
import { toAppError } from "./lib/errors";
import { documentPlatformRoutes } from "./rest/platform-openapi";
import type { Services } from "./services";
import { tenantsRest } from "./tenants/rest";
import { listRevokedKeys } from "./tokens/list-revoked-keys";
import { tokensRest } from "./tokens/rest";
import { appRouter } from "./trpc/router";
import { rateLimitByKey, rateLimitError } from "./usage/rate-limit";
import { usageRest } from "./usage/rest";
import { usersRest } from "./users/rest";
import { documentEmbedRoutes } from "./widgets/embed-openapi";
import { embedRoutes } from "./widgets/embed-routes";

const API_DESCRIPTION = `The VDB control plane's REST API. Authenticate with \`Authorization: Bearer <key>\` (an API key
\`vdbk_…\` or a console session token \`vdbs_…\`). Every error is \`{ "error": { "code", "message", "requestId" } }\`
with one code of: BAD_REQUEST, VALIDATION_FAILED (with per-field \`issues\`), UNAUTHORIZED, FORBIDDEN, NOT_FOUND,
METHOD_NOT_ALLOWED, CONFLICT, PAYLOAD_TOO_LARGE, QUOTA_EXCEEDED, RATE_LIMITED, INTERNAL, SERVICE_UNAVAILABLE,
STORAGE_FULL (507: a disk is full; an operator must free space).`;

/** The whole control plane as one Hono app: tRPC, REST + OpenAPI, JWKS, health and metrics. */
export function createApp(services: Services) {
  const app = new OpenAPIHono<AppEnv>();

  app.use(requestContext(services));
  // Uploads stream files of up to the plan's size; their own route enforces the signed limit.
  // The Chroma gateway takes Chroma-sized batches: its own limit, GATEWAY_MAX_BODY_BYTES.
  const limitBody = limitBodySize(services.config.MAX_BODY_BYTES);
  const isStreamedUpload = (path: string) =>
    path.startsWith(UPLOAD_ROUTE_PREFIX) ||
    MULTIPART_UPLOAD_PATH.test(path) ||
    DATABASE_CREATE_PATH.test(path) ||
    IMPORT_PATH.test(path);
  app.use((c, next) =>
    c.req.path.startsWith(CHROMA_GATEWAY_PREFIX) || isStreamedUpload(c.req.path)
      ? next()
      : limitBody(c, next),
  );
  // NULs, lone surrogates and deep nesting are refused on every surface. tRPC checks its own
  // input and the Chroma gateway its streamed bodies (each in its own error shape); files are
  // the blob store's, not input to check.
  const checkInput = rejectUncleanInput({ skipBody: isStreamedUpload });
  app.use((c, next) =>
    c.req.path.startsWith("/trpc/") || c.req.path.startsWith(CHROMA_GATEWAY_PREFIX)
      ? next()
      : checkInput(c, next),
  );

  app.get("/health", async (c) => {
    try {
      await pingStore(services.db);
      return c.json({ status: "ok", store: services.store.kind });
    } catch (error) {
      c.get("logger").error({ err: error }, "health check: store unreachable");
      return c.json({ status: "unavailable", store: services.store.kind }, 503);
    }
  });
  app.get("/metrics", async (c) => {
    c.header("Content-Type", services.metrics.registry.contentType);
    return c.body(await services.metrics.registry.metrics());
  });
  app.get("/.well-known/jwks.json", async (c) => {
    c.header("Cache-Control", "public, max-age=60");
    return c.json(await services.signingKeys.jwks());
  });
  // Read by instances (a path relative to JWKS_URL) to refuse tokens of revoked API keys.
  app.get("/.well-known/vdb-revoked-keys.json", async (c) => {
    c.header("Cache-Control", "no-store");
    const input = { tenant: c.req.query("tenant") ?? "" };
    return c.json(await listRevokedKeys({ ctx: ctxOf(c), input }));
  });

  app.use(
    "/trpc/*",
    trpcServer({
      router: appRouter,
      endpoint: "/trpc",
      // Authenticated here rather than by middleware, so a rejected credential is answered in
      // tRPC's error shape (with our code and requestId), which tRPC clients can read.
      createContext: async (opts, c) => {
        let principal: Principal | null = null;
        let credential: string | null = null;
        let authFailure: unknown = null;
        try {
          // A browser's EventSource cannot send headers: its subscriptions carry the session
          // token in tRPC's connectionParams (`{ token }`) instead.
          const paramsToken = opts.info.connectionParams?.token;
          credential = credentialFrom({
            authorization:
              c.req.header("authorization") ?? (paramsToken ? `Bearer ${paramsToken}` : undefined),
            apiKey: c.req.header("x-api-key"),
          });
          principal = await authenticate(services, credential);
          const verdict = await services.rateLimits(principal, services);
          if (verdict && !verdict.isAllowed) throw rateLimitError(verdict);
        } catch (error) {
          authFailure = error;
        }
        return { principal, credential, authFailure, request: requestMetaOf(c), services };
      },
      // tRPC answers a RATE_LIMITED error 429 itself: give it the Retry-After the REST 429s have.
      responseMeta: ({ errors }) => {
        const retryAfter = errors.map((error) => retryAfterOf(toAppError(error))).find((s) => s !== null);
        return retryAfter ? { headers: { "Retry-After": String(retryAfter) } } : {};
      },
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR")
          services.logger.error({ err: error.cause ?? error, path }, "tRPC error");
      },
    }),
  );

  const api = new OpenAPIHono<AppEnv>();
  api.use(authenticateRequest);
  api.use(rateLimitByKey());
  api.get("/plans", (c) => c.json(PLANS));
  api.route("/", authRest);
  api.route("/", usersRest);
  api.route("/", tenantsRest);
  api.route("/", keysRest);
  api.route("/", tokensRest);
  api.route("/", auditRest);
  api.route("/", instancesRest);
  api.route("/", dataPlaneRest);
  api.route("/", documentsRest);
  api.route("/", backupsRest);
  api.route("/", databasesRest);
  api.route("/", chatRest);
  api.route("/", usageRest);
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  documentEmbedRoutes(api, services.config.publicUrl);
  documentFileUploadRoute(api);
  backupImportRoute(api);
  documentSeedCreateRoute(api);
  documentPlatformRoutes(api, services.config.publicUrl);
  api.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "VDB control plane", version: "1", description: API_DESCRIPTION },
    servers: [{ url: `${services.config.publicUrl}/api/v1` }],
  });
  serveApiDocs(api, "VDB API");
  app.route("/", uploadRoutes(services.blobs, services.uploadSecret));
  // The chat widget on tenants' sites: embed tokens, visitors' chat, the widget's files.
  app.route("/", embedRoutes(services));
  app.route("/api/v1", api);
  app.route("/", chromaGateway({ maxBodyBytes: services.config.GATEWAY_MAX_BODY_BYTES }));
  app.use(serveConsole(services.config.CONSOLE_DIR));

  answerErrorsAsJson(app, services.logger);
  return app;
}

export type App = ReturnType<typeof createApp>;
