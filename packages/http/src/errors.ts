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
  /** When trying again may succeed, in seconds: the `Retry-After` every transport answers with (RATE_LIMITED: 1 s when unset). */
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
 * The `Retry-After` (whole seconds, at least 1) of a RATE_LIMITED error, or of any other error that
 * knows when trying again may succeed; null otherwise.
 *
 * @example
 * const retryAfter = retryAfterOf(error);
 * if (retryAfter !== null) c.header("Retry-After", String(retryAfter));
 */
export function retryAfterOf(error: unknown): number | null {
  const appError = toAppError(error);
  if (appError.retryAfterSeconds === undefined && appError.code !== "RATE_LIMITED") return null;
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

/** The first `code` on `error` or the errors it wraps (Node's errno names, Postgres' SQLSTATE). */
function errorCodeOf(error: unknown, codes: readonly string[]): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 10; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && codes.includes(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** No space left (ENOSPC), a disk quota (EDQUOT), or Postgres' disk_full (53100). */
const STORAGE_FULL_CODES = ["ENOSPC", "EDQUOT", "53100"] as const;
/** A disk that refuses writes for another reason: read-only, or failing. */
const STORAGE_FAILED_CODES = ["EROFS", "EIO"] as const;

/**
 * An AppError an operator can act on for a failed storage write, or null for other errors.
 *
 * @example
 * storageError(Object.assign(new Error("write failed"), { code: "ENOSPC" }))?.code; // "STORAGE_FULL"
 */
export function storageError(error: unknown): AppError | null {
  const full = errorCodeOf(error, STORAGE_FULL_CODES);
  if (full) {
    return new AppError({
      code: "STORAGE_FULL",
      message: `The server's storage is full (${full === "53100" ? "the database's disk" : full}); nothing more can be stored until an operator frees space on the data volume. Try again then.`,
      cause: error,
    });
  }
  const failed = errorCodeOf(error, STORAGE_FAILED_CODES);
  if (failed) {
    return new AppError({
      code: "SERVICE_UNAVAILABLE",
      message: `The server could not write to its storage (${failed}); an operator must check the data volume. Try again later.`,
      cause: error,
    });
  }
  return null;
}

/**
 * Turns anything thrown into an AppError: a failed storage write becomes STORAGE_FULL (507) or
 * SERVICE_UNAVAILABLE, other unknown errors INTERNAL without leaking their text.
 *
 * @example
 * toAppError(new Error("db password is hunter2")).message; // "Internal error; quote the requestId…"
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) return validationError(error);
  const storage = storageError(error);
  if (storage) return storage;
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
