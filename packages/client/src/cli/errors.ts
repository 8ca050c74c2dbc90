import { isVdbError, TRPCClientError } from "../index";

/** A mistake in the command line itself: shown with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Something the user should know that is neither a usage mistake nor a server's answer. */
export class CliError extends Error {
  override name = "CliError";
}

/** An error answered by the REST API: its `{ error: { code, message, requestId } }` body. */
export class ServerError extends Error {
  override name = "ServerError";
  constructor(
    message: string,
    readonly code: string,
    readonly requestId: string | null,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }

  /** Reads an error response; a body that is not VDB's error shape still gives a useful line. */
  static async fromResponse(response: Response): Promise<ServerError> {
    const text = await response.text().catch(() => "");
    try {
      const { error } = JSON.parse(text) as {
        error?: { code?: string; message?: string; requestId?: string; issues?: ServerError["issues"] };
      };
      if (error?.message && error.code) {
        return new ServerError(error.message, error.code, error.requestId ?? null, error.issues ?? []);
      }
    } catch {
      // not JSON: fall through to the raw status and text
    }
    const excerpt = text.trim().slice(0, 200);
    return new ServerError(
      `HTTP ${response.status} ${response.statusText}${excerpt ? `: ${excerpt}` : ""}`,
      `HTTP_${response.status}`,
      response.headers.get("x-request-id"),
    );
  }
}

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The fields of any error the server answered, however it arrived (tRPC or REST). */
export function serverErrorFields(
  error: unknown,
): { message: string; code: string; requestId: string | null; issues: ServerError["issues"] } | null {
  if (error instanceof ServerError) {
    return { message: error.message, code: error.code, requestId: error.requestId, issues: error.issues };
  }
  if (isVdbError(error)) {
    return {
      message: error.message,
      code: error.data.appCode,
      requestId: error.data.requestId,
      issues: error.data.issues ?? [],
    };
  }
  return null;
}

/** One line (plus field issues) describing `error`, for stderr and for the ingest summary. */
export function describeError(error: unknown, url?: string): string {
  const fields = serverErrorFields(error);
  if (fields) {
    const where = fields.requestId ? `${fields.code}, request ${fields.requestId}` : fields.code;
    // The server's message often already quotes the first issue: list only what it leaves out.
    const issues = fields.issues
      .map((issue) => `${issue.path || "(input)"}: ${issue.message}`)
      .filter((line) => !fields.message.includes(line))
      .map((line) => `\n  ${line}`)
      .join("");
    return `${fields.message} (${where})${issues}`;
  }
  const cause = networkCause(error);
  if (cause) return `cannot reach the control plane${url ? ` at ${url}` : ""} (${cause})`;
  if (error instanceof TRPCClientError) {
    // Not from a VDB server (no appCode): a proxy page, another service on that port…
    return `unexpected answer${url ? ` from ${url}` : ""}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Whether `error` is a failure to reach the server at all (refused, unknown host…). */
export function isUnreachable(error: unknown): boolean {
  return networkCause(error) !== null;
}

/**
 * Why `fetch` could not reach the server (ECONNREFUSED, ENOTFOUND, "bad port"…), or null when
 * `error` is not such a failure. undici wraps the cause in `TypeError: fetch failed`.
 */
function networkCause(error: unknown): string | null {
  let sawFetchFailure = false;
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (sawFetchFailure && typeof code === "string") return code;
    if (current instanceof TypeError && current.message === "fetch failed") sawFetchFailure = true;
    else if (sawFetchFailure) return current.message;
    current = current.cause;
  }
  return sawFetchFailure ? "fetch failed" : null;
}

/** The exit code for an error that ended a command. */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}
