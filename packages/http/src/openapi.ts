import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { ErrorBody } from "@vdb/schemas/errors";
import type { Context, Env, MiddlewareHandler } from "hono";
import type { ZodType } from "zod";
import { validationError } from "./errors";

export interface RestAppOptions {
  /**
   * Every success a route answers with `c.json` is parsed with the schema its route declares for
   * that status before it is sent: fields the schema does not name are dropped (a column a
   * handler passes on by mistake never reaches a client), and an answer that breaks its schema is
   * a 500 (logged) instead of a surprise for the client. Default false.
   */
  shapeResponses?: boolean;
}

/**
 * A REST sub-app whose validation failures become VALIDATION_FAILED errors with field issues.
 *
 * @example
 * export const restApp = () => createRestApp<AppEnv>({ shapeResponses: true });
 */
export function createRestApp<E extends Env>(options: RestAppOptions = {}) {
  const app = new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
  if (options.shapeResponses) {
    const register = app.openapi;
    app.openapi = ((route: RouteConfig, handler: never, hook: never) =>
      register(
        { ...route, middleware: [shapeResponsesOf(route), ...[route.middleware ?? []].flat()] } as never,
        handler,
        hook,
      )) as typeof register;
  }
  return app;
}

/** A route's 2xx JSON schemas, by status. */
function successSchemas(route: RouteConfig): Map<number, ZodType> {
  const schemas = new Map<number, ZodType>();
  for (const [status, response] of Object.entries(route.responses)) {
    const code = Number(status);
    if (!(code >= 200 && code < 300) || !response || !("content" in response)) continue;
    const media = response.content?.["application/json"];
    const schema = media && "schema" in media ? (media.schema as ZodType | undefined) : undefined;
    if (schema && typeof schema.safeParse === "function") schemas.set(code, schema);
  }
  return schemas;
}

/**
 * `data` as `schema` parses it (fields it does not name dropped, see `shapeResponses`), for an
 * answer a route writes itself; throws a plain Error (a 500, logged) naming `what` and the first
 * issues when `data` breaks the schema.
 *
 * @example
 * c.body(JSON.stringify(shapedBy(Document, row, "GET /documents/{id}")), 200);
 */
export function shapedBy<T>(schema: ZodType<T>, data: unknown, what: string): T {
  const shaped = schema.safeParse(data);
  if (shaped.success) return shaped.data;
  const issues = shaped.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
  throw new Error(`${what} answered off its schema: ${issues}`);
}

/** Makes the route's `c.json` send a success as its schema shapes it (see `shapeResponses`). */
function shapeResponsesOf(route: RouteConfig): MiddlewareHandler {
  const schemas = successSchemas(route);
  return async (c: Context, next) => {
    if (schemas.size > 0) {
      const json = c.json.bind(c) as (...args: unknown[]) => Response;
      c.json = ((data: unknown, arg?: number | ResponseInit, headers?: Record<string, string>) => {
        const status = typeof arg === "number" ? arg : (arg?.status ?? 200);
        const schema = schemas.get(status);
        if (!schema) return json(data, arg, headers);
        return json(
          shapedBy(schema, data, `${route.method.toUpperCase()} ${route.path} (${status})`),
          arg,
          headers,
        );
      }) as typeof c.json;
    }
    await next();
  };
}

function errorResponse(description: string) {
  return { description, content: { "application/json": { schema: ErrorBody } } };
}

/** What 400, 404 and 409 mean is the same in every VDB API. */
const COMMON_ERROR_DESCRIPTIONS = {
  400: "Invalid input (VALIDATION_FAILED, BAD_REQUEST)",
  404: "Not found",
  409: "Conflicts with existing state",
} as const;

type CommonErrorStatus = keyof typeof COMMON_ERROR_DESCRIPTIONS;

/**
 * OpenAPI error responses for an API's routes: the common 400 / 404 / 409 plus the statuses
 * whose meaning is the API's own (who may call it, what limits it has).
 *
 * @example
 * export const ERROR_RESPONSES = errorResponses({ 401: "Bad credential", 403: "Lacks a scope" });
 * createRoute({ ..., responses: { 200: jsonContent(Tenant, "The tenant"), ...ERROR_RESPONSES } });
 */
export function errorResponses<const S extends number>(
  descriptions: Record<S, string>,
): Record<CommonErrorStatus | S, ReturnType<typeof errorResponse>> {
  const all: Record<number, string> = { ...COMMON_ERROR_DESCRIPTIONS, ...descriptions };
  return Object.fromEntries(
    Object.entries(all).map(([status, description]) => [status, errorResponse(description)]),
  ) as Record<CommonErrorStatus | S, ReturnType<typeof errorResponse>>;
}

/**
 * A JSON response (or request body content) with its schema.
 *
 * @example
 * responses: { 200: jsonContent(Tenant, "The tenant") }
 */
export function jsonContent<T>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/**
 * A required JSON request body, to spread into a route's `request`.
 *
 * @example
 * request: { params: TenantParams, ...jsonBody(UpdateTenantInput) }
 */
export function jsonBody<T>(schema: T) {
  return { body: { content: { "application/json": { schema } }, required: true } };
}

/** Bearer authentication, the `bearer` security scheme every VDB API registers. */
export const SECURITY = [{ bearer: [] }];
