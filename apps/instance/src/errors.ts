// A copy of the control plane's `src/lib/errors.ts` minus tRPC (the instance has none): the two
// are small and must agree on the wire shape, which `@vdb/schemas/errors` already fixes.
import { ERROR_STATUS, type ErrorBody, type ErrorCode, type FieldIssue } from "@vdb/schemas/errors";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";

/** The only error domain code throws on purpose; `code` comes from the closed set. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly issues: FieldIssue[] | undefined;

  constructor(opts: { code: ErrorCode; message: string; issues?: FieldIssue[]; cause?: unknown }) {
    super(opts.message, { cause: opts.cause });
    this.name = "AppError";
    this.code = opts.code;
    this.issues = opts.issues;
  }
}

export function zodIssues(error: ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

export function validationError(error: ZodError): AppError {
  const issues = zodIssues(error);
  const summary = issues
    .slice(0, 3)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join("; ");
  return new AppError({ code: "VALIDATION_FAILED", message: `Invalid input: ${summary}`, issues });
}

/** Turns anything thrown into an AppError; unknown errors become INTERNAL without leaking their text. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) return validationError(error);
  if (error instanceof HTTPException) {
    const status = error.status;
    if (status === 413)
      return new AppError({ code: "PAYLOAD_TOO_LARGE", message: error.message || "Body too large" });
    if (status === 401)
      return new AppError({ code: "UNAUTHORIZED", message: error.message || "Unauthorized" });
    if (status >= 400 && status < 500) {
      return new AppError({ code: "BAD_REQUEST", message: error.message || "Bad request" });
    }
  }
  return new AppError({
    code: "INTERNAL",
    message: "Internal error; quote the requestId to an operator",
    cause: error,
  });
}

export function toHttpError(error: unknown, requestId: string): { status: number; body: ErrorBody } {
  const appError = toAppError(error);
  return {
    status: ERROR_STATUS[appError.code],
    body: {
      error: {
        code: appError.code,
        message: appError.message,
        requestId,
        ...(appError.issues ? { issues: appError.issues } : {}),
      },
    },
  };
}
