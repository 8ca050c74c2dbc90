import { OpenAPIHono } from "@hono/zod-openapi";
import { ErrorBody } from "@vdb/schemas/errors";
import { validationError } from "../errors";
import type { InstanceEnv } from "../http/env";

/** A REST sub-app whose validation failures become VALIDATION_FAILED errors with field issues. */
export function restApp() {
  return new OpenAPIHono<InstanceEnv>({
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
  401: errorResponse("Missing, invalid or expired token, or a token for another tenant"),
  403: errorResponse(
    "The token lacks a scope (FORBIDDEN), or the write would exceed MAX_DOCS (QUOTA_EXCEEDED)",
  ),
  404: errorResponse("Not found"),
  409: errorResponse("Conflicts with existing state"),
  413: errorResponse("Body too large"),
  503: errorResponse("Chroma or the control plane's signing keys are unreachable"),
} as const;

export function jsonContent<T>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

export function jsonBody<T>(schema: T) {
  return { body: { content: { "application/json": { schema } }, required: true } };
}

export const SECURITY = [{ bearer: [] }];
