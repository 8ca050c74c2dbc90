import { createRestApp, errorResponses } from "@vdb/http/openapi";
import type { InstanceEnv } from "../http/env";

/** An instance REST sub-app: its handlers read the instance's request variables. */
export const restApp = () => createRestApp<InstanceEnv>();

/** Error responses every authenticated route may give; see the error codes in the docs' intro. */
export const ERROR_RESPONSES = errorResponses({
  401: "Missing, invalid or expired token, or a token for another tenant",
  403: "The token lacks a scope (FORBIDDEN), or the write would exceed MAX_DOCS (QUOTA_EXCEEDED)",
  413: "Body too large",
  503: "Chroma or the control plane's signing keys are unreachable",
});
