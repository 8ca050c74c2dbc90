import { TRPCError } from "@trpc/server";
import { AppError, toAppError as toAppErrorOverHttp } from "@vdb/http/errors";
import { ERROR_TRPC_CODE, type ErrorCode } from "@vdb/schemas/errors";
import { ZodError } from "zod";

const TRPC_TO_APP_CODE: Partial<Record<TRPCError["code"], ErrorCode>> = {
  PARSE_ERROR: "BAD_REQUEST",
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  METHOD_NOT_SUPPORTED: "METHOD_NOT_ALLOWED",
  CONFLICT: "CONFLICT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  TOO_MANY_REQUESTS: "RATE_LIMITED",
};

/** `@vdb/http`'s `toAppError` that also reads tRPC's own errors and the domain errors they wrap. */
export function toAppError(error: unknown): AppError {
  if (error instanceof TRPCError) {
    if (error.cause instanceof AppError || error.cause instanceof ZodError)
      return toAppErrorOverHttp(error.cause);
    const code = TRPC_TO_APP_CODE[error.code];
    if (code) return new AppError({ code, message: error.message });
  }
  return toAppErrorOverHttp(error);
}

export function toTRPCError(error: unknown): TRPCError {
  const appError = toAppError(error);
  return new TRPCError({ code: ERROR_TRPC_CODE[appError.code], message: appError.message, cause: appError });
}

/** Whether `error`, or an error it wraps (Drizzle wraps the driver's in `cause`), has SQLSTATE `code`. */
function hasPostgresCode(error: unknown, code: string): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === code) return true;
  }
  return false;
}

/** Postgres' unique_violation, as raised by PGlite and postgres.js. */
export function isUniqueViolation(error: unknown): boolean {
  return hasPostgresCode(error, "23505");
}

/** Postgres' foreign_key_violation, as raised by PGlite and postgres.js. */
export function isForeignKeyViolation(error: unknown): boolean {
  return hasPostgresCode(error, "23503");
}
