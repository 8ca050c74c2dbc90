import { OpenAPIHono } from "@hono/zod-openapi";
import { ErrorBody } from "@vdb/schemas/errors";
import type { AppEnv } from "../http/env";
import { validationError } from "../lib/errors";

/** A REST sub-app whose validation failures become VALIDATION_FAILED errors with field issues. */
export function restApp() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorBody } },
});

/** Error responses every authenticated route may give; see the error codes in the docs' intro. */
export const ERROR_RESPONSES = {
  400: errorResponse("Invalid input (VALIDATION_FAILED, BAD_REQUEST)"),
  401: errorResponse("Missing, invalid, expired or revoked credential"),
  403: errorResponse("The credential lacks access to this tenant, or a scope"),
  404: errorResponse("Not found"),
  409: errorResponse("Conflicts with existing state"),
} as const;

export function jsonContent<T>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

export function jsonBody<T>(schema: T) {
  return { body: { content: { "application/json": { schema } }, required: true } };
}

export const SECURITY = [{ bearer: [] }];
