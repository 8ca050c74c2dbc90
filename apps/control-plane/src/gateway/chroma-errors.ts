import { AppError, toAppError } from "@vdb/http/errors";
import { CHROMA_ERRORS, CHROMA_QUOTA_PREFIX, type ChromaErrorBody } from "@vdb/schemas/chroma-api";
import { ErrorBody } from "@vdb/schemas/errors";
import { InstanceNotRunningError } from "../data-plane/instance-client";

export interface ChromaErrorAnswer {
  status: number;
  body: ChromaErrorBody;
}

/**
 * Anything thrown on the Chroma gateway as Chroma's own clients expect it (see CHROMA_ERRORS),
 * with VDB's message. A tenant whose instance is not running gets Chroma's 503 whether it is
 * starting or stopped: the REST API's 409 would read as "already exists" in the JS client.
 *
 * @example
 * toChromaError(new AppError({ code: "NOT_FOUND", message: "No such key" }));
 * // { status: 404, body: { error: "NotFoundError", message: "No such key" } }
 */
export function toChromaError(error: unknown): ChromaErrorAnswer {
  if (error instanceof InstanceNotRunningError) {
    return { status: 503, body: { error: CHROMA_ERRORS.SERVICE_UNAVAILABLE.name, message: error.message } };
  }
  const appError = toAppError(error);
  const { status, name } = CHROMA_ERRORS[appError.code];
  const message =
    appError.code === "QUOTA_EXCEEDED" ? `${CHROMA_QUOTA_PREFIX}${appError.message}` : appError.message;
  return { status, body: { error: name, message } };
}

/**
 * An instance's error answer in VDB's envelope (`{ error: { code, message } }`), in Chroma's
 * shape; null for anything else, which is Chroma's own answer and passes unchanged. The
 * instance refusing the control plane's token is the platform's fault, not the caller's key: a
 * 503, never Chroma's 401.
 */
export function instanceErrorAsChroma(text: string): ChromaErrorAnswer | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const envelope = ErrorBody.safeParse(parsed);
  if (!envelope.success) return null;
  const { code, message } = envelope.data.error;
  if (code === "UNAUTHORIZED") {
    return toChromaError(
      new AppError({
        code: "SERVICE_UNAVAILABLE",
        message: "The tenant's instance refused the control plane's credentials; try again shortly",
      }),
    );
  }
  return toChromaError(new AppError({ code, message }));
}
