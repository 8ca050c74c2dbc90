import { ERROR_STATUS, type ErrorBody, type ErrorCode, type FieldIssue } from "@vdb/schemas/errors";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";

/**
 * The only error domain code throws on purpose; `code` comes from the closed set.
 *
 * @example
 * throw new AppError({ code: "NOT_FOUND", message: `No tenant ${tenantId}` });
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly issues: FieldIssue[] | undefined;
  /** For RATE_LIMITED: the `Retry-After` every transport answers with (1 s when unset). */
  readonly retryAfterSeconds: number | undefined;

  constructor(opts: {
    code: ErrorCode;
    message: string;
    issues?: FieldIssue[];
    cause?: unknown;
    retryAfterSeconds?: number;
  }) {
    super(opts.message, { cause: opts.cause });
    this.name = "AppError";
    this.code = opts.code;
    this.issues = opts.issues;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/**
 * The `Retry-After` (whole seconds, at least 1) of a RATE_LIMITED error; null for any other.
 *
 * @example
 * const retryAfter = retryAfterOf(error);
 * if (retryAfter !== null) c.header("Retry-After", String(retryAfter));
 */
export function retryAfterOf(error: unknown): number | null {
  const appError = toAppError(error);
  if (appError.code !== "RATE_LIMITED") return null;
  return Math.max(1, Math.ceil(appError.retryAfterSeconds ?? 1));
}

/**
 * One issue per failed field, its path dotted (`items.0.text`), `(body)` for the whole body.
 *
 * @example
 * zodIssues(schema.safeParse(input).error!); // [{ path: "items.0.text", message: "Invalid input: expected string, received undefined" }]
 */
export function zodIssues(error: ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

/**
 * A VALIDATION_FAILED error carrying every field issue, and the first three in its message.
 *
 * @example
 * const parsed = Input.safeParse(body);
 * if (!parsed.success) throw validationError(parsed.error);
 */
export function validationError(error: ZodError): AppError {
  const issues = zodIssues(error);
  const summary = issues
    .slice(0, 3)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join("; ");
  return new AppError({ code: "VALIDATION_FAILED", message: `Invalid input: ${summary}`, issues });
}

/**
 * Turns anything thrown into an AppError; unknown errors become INTERNAL without leaking their text.
 *
 * @example
 * toAppError(new Error("db password is hunter2")).message; // "Internal error; quote the requestId…"
 */
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

/**
 * The HTTP status and `{ error: { code, message, requestId, issues? } }` body for anything thrown.
 *
 * @example
 * const { status, body } = toHttpError(error, c.get("requestId"));
 * return c.json(body, status as 400);
 */
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
