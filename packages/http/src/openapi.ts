import { OpenAPIHono } from "@hono/zod-openapi";
import { ErrorBody } from "@vdb/schemas/errors";
import type { Env } from "hono";
import { validationError } from "./errors";

/**
 * A REST sub-app whose validation failures become VALIDATION_FAILED errors with field issues.
 *
 * @example
 * export const restApp = () => createRestApp<AppEnv>();
 */
export function createRestApp<E extends Env>() {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
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
