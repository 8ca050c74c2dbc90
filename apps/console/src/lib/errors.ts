import { TRPCClientError } from "@trpc/client";

export interface FieldIssue {
  path: string;
  message: string;
}

interface ErrorData {
  appCode?: string;
  code?: string;
  issues?: FieldIssue[] | null;
  requestId?: string;
}

function dataOf(error: unknown): ErrorData | null {
  if (error instanceof TRPCClientError) return (error.data as ErrorData | undefined) ?? null;
  return null;
}

/** The error's code from the control plane's closed set (`UNAUTHORIZED`, `NOT_FOUND`…), if any. */
export function errorCode(error: unknown): string | null {
  const data = dataOf(error);
  return data?.appCode ?? data?.code ?? null;
}

/** A sentence a person can act on, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) {
    if (!error.data && /fetch|network|Failed to/i.test(error.message)) {
      return "The control plane did not answer. Check your connection and try again.";
    }
    return error.message || "Something went wrong.";
  }
  if (error instanceof Error) return error.message || "Something went wrong.";
  if (typeof error === "string") return error;
  return "Something went wrong.";
}

/** The request id to quote to an operator, when the control plane gave one. */
export function errorRequestId(error: unknown): string | null {
  return dataOf(error)?.requestId ?? null;
}

/** Per-field messages the server returned with a VALIDATION_FAILED error, keyed by dotted path. */
export function serverFieldErrors(error: unknown): Record<string, string> {
  const issues = dataOf(error)?.issues ?? [];
  const out: Record<string, string> = {};
  for (const issue of issues) if (!(issue.path in out)) out[issue.path] = issue.message;
  return out;
}
