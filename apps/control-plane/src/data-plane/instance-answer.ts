import { AppError } from "@vdb/http/errors";
import { ErrorBody } from "@vdb/schemas/errors";

/**
 * The body of an instance's answer, or the instance's own error (code and message kept) when it
 * refused the call: a bad filter or a missing collection reads the same as over REST.
 */
export function instanceAnswer(result: { status: number; body: unknown }): unknown {
  if (result.status < 400) return result.body;
  const parsed = ErrorBody.safeParse(result.body);
  if (parsed.success) {
    const { code, message, issues } = parsed.data.error;
    throw new AppError({ code, message, ...(issues ? { issues } : {}) });
  }
  throw new AppError({
    code: "SERVICE_UNAVAILABLE",
    message: `The tenant's instance answered ${result.status}; try again shortly`,
  });
}
