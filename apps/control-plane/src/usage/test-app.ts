/**
 * For this folder's tests: the usage REST routes and tRPC router over a test server's services,
 * mounted as `createApp` mounts the other domains (request context, authentication, JSON errors).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { answerErrorsAsJson } from "@vdb/http/app-defaults";
import { authenticate } from "../auth/authenticate";
import { authenticateRequest } from "../http/authenticate-request";
import type { AppEnv } from "../http/env";
import { requestContext } from "../http/request-context";
import type { Services } from "../services";
import { createCallerFactory, router } from "../trpc/trpc";
import { usageRest } from "./rest";
import { usageRouter } from "./router";

export function usageTestApp(services: Services) {
  const app = new OpenAPIHono<AppEnv>();
  app.use(requestContext(services));
  const api = new OpenAPIHono<AppEnv>();
  api.use(authenticateRequest);
  api.route("/", usageRest);
  app.route("/api/v1", api);
  answerErrorsAsJson(app, services.logger);
  const createCaller = createCallerFactory(router({ usage: usageRouter }));

  return {
    /** `GET /api/v1<path>` as `token`. */
    // biome-ignore lint/suspicious/noExplicitAny: bodies are checked by the tests' assertions
    async get(path: string, token?: string): Promise<{ status: number; body: any; headers: Headers }> {
      const response = await app.request(`/api/v1${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      return { status: response.status, body: await response.json(), headers: response.headers };
    },
    /** The `usage` tRPC procedures, called as `token`. */
    async trpcAs(token: string) {
      return createCaller({
        principal: await authenticate(services, token),
        credential: token,
        authFailure: null,
        request: { requestId: "req_test", ip: null, userAgent: null },
        services,
      });
    },
  };
}
