import { createRestApp, errorResponses } from "@vdb/http/openapi";
import type { AppEnv } from "../http/env";

/** A control-plane REST sub-app: its handlers read the control plane's request variables. */
export const restApp = () => createRestApp<AppEnv>({ shapeResponses: true });

/** Error responses every authenticated route may give; see the error codes in the docs' intro. */
export const ERROR_RESPONSES = errorResponses({
  401: "Missing, invalid, expired or revoked credential",
  403: "The credential lacks access to this tenant, or a scope",
});
