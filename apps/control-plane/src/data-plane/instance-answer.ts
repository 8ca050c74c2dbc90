import { AppError } from "@vdb/http/errors";
import { ErrorBody } from "@vdb/schemas/errors";

/**
 * The instance's own refusal as ours: a 4xx keeps its code, message and issues (a bad filter or
 * a missing collection reads the same as over REST); anything else is the instance failing,
 * SERVICE_UNAVAILABLE to the caller.
 */
export function instanceRefusal(status: number, body: unknown): AppError {
  const parsed = ErrorBody.safeParse(body);
  if (parsed.success && status < 500) {
    const { code, message, issues } = parsed.data.error;
    return new AppError({ code, message, ...(issues ? { issues } : {}) });
  }
  return new AppError({
    code: "SERVICE_UNAVAILABLE",
    message: `The tenant's instance answered ${status}; try again shortly`,
  });
}

/** The body of an instance's answer, or its refusal thrown (see {@link instanceRefusal}). */
export function instanceAnswer(result: { status: number; body: unknown }): unknown {
  if (result.status < 400) return result.body;
  throw instanceRefusal(result.status, result.body);
}
