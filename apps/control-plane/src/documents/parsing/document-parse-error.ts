import { AppError } from "@vdb/http/errors";

/**
 * Why a document could not be turned into text. Every kind is permanent: the same bytes fail the
 * same way, so an ingestion job marks the document failed instead of retrying.
 */
export type DocumentParseFailure =
  | "empty"
  | "too_large"
  | "unsupported"
  | "type_mismatch"
  | "damaged"
  | "encrypted"
  | "no_text"
  | "too_complex";

/**
 * The only error `parseDocument` throws. `reason` is written for the person who uploaded the file
 * ("the file says .pdf but is not a PDF") and is safe to show; the library error that caused it,
 * if any, stays in `cause` for the logs.
 *
 * @example
 * throw new DocumentParseError({ kind: "empty", reason: "the file is empty" });
 */
export class DocumentParseError extends AppError {
  readonly kind: DocumentParseFailure;
  readonly reason: string;

  constructor(opts: { kind: DocumentParseFailure; reason: string; cause?: unknown }) {
    super({
      code: opts.kind === "too_large" ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST",
      message: opts.reason,
      cause: opts.cause,
    });
    this.name = "DocumentParseError";
    this.kind = opts.kind;
    this.reason = opts.reason;
  }
}

/** Shared by every parser that counts what it extracts against `ParseLimits.maxCharacters`. */
export function tooMuchText(maxCharacters: number): DocumentParseError {
  return new DocumentParseError({
    kind: "too_complex",
    reason: `the document holds more than ${maxCharacters.toLocaleString("en-US")} characters of text; split it into smaller files`,
  });
}
