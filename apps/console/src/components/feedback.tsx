import type { ReactNode } from "react";
import { errorMessage, errorRequestId } from "../lib/errors";

/** A failed request as a readable message, with a retry when there is one. */
export function ErrorMessage({
  error,
  onRetry,
  title,
}: {
  error: unknown;
  onRetry?: () => void;
  title?: string;
}) {
  const requestId = errorRequestId(error);
  return (
    <div className="alert alert-error" role="alert">
      <div>
        {title ? <strong>{title}: </strong> : null}
        {errorMessage(error)}
        {requestId ? <span className="muted small"> (request {requestId})</span> : null}
      </div>
      {onRetry ? (
        <button type="button" className="secondary small-button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function Notice({
  children,
  tone = "info",
}: {
  children: ReactNode;
  tone?: "info" | "success" | "warning";
}) {
  return (
    <div className={`alert alert-${tone}`} role="status">
      {children}
    </div>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** Renders a TanStack query's three states: loading, error (with retry), or its data. */
export function QueryView<T>({
  query,
  children,
  label,
}: {
  query: { isPending: boolean; error: unknown; data: T | undefined; refetch: () => unknown };
  children: (data: T) => ReactNode;
  label?: string;
}) {
  if (query.error) return <ErrorMessage error={query.error} onRetry={() => void query.refetch()} />;
  if (query.isPending || query.data === undefined) return <Loading {...(label ? { label } : {})} />;
  return <>{children(query.data)}</>;
}
