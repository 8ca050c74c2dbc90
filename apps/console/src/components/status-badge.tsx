const TONES: Record<string, string> = {
  running: "success",
  ready: "success",
  completed: "success",
  succeeded: "success",
  active: "success",
  starting: "info",
  waking: "info",
  pending: "info",
  queued: "info",
  processing: "info",
  uploading: "info",
  stopping: "warning",
  stopped: "neutral",
  sleeping: "neutral",
  revoked: "neutral",
  expired: "neutral",
  deleted: "neutral",
  failed: "danger",
};

/** A state as a coloured pill; the word carries the meaning, the colour only repeats it. */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    <span className={`badge badge-${TONES[status] ?? "neutral"}`} data-status={status}>
      {label ?? status}
    </span>
  );
}
